--[[ Remove a named schedule: no job is made for it any more (those it made stay).
  KEYS[1] the schedules hash (name -> spec JSON), KEYS[2] their due times (sorted set, ms)
  ARGV[1] name
  Returns 1 when it existed, else 0.
]]
local removed = redis.call("HDEL", KEYS[1], ARGV[1])
redis.call("ZREM", KEYS[2], ARGV[1])
return removed
