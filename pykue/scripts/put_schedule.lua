--[[ Add or replace a named schedule. The same spec again (a worker starting with the same
  task, or add_schedule repeated) keeps its due time, so a restart neither skips nor adds a
  run; a new spec takes the due time given.
  KEYS[1] the schedules hash (name -> spec JSON), KEYS[2] their due times (sorted set, ms)
  ARGV[1] name, ARGV[2] spec JSON, ARGV[3] its first due time (ms)
  Returns {1 if it was added or changed (else 0), its due time (ms)}.
]]
local name, spec = ARGV[1], ARGV[2]
local due = redis.call("ZSCORE", KEYS[2], name)
if due and redis.call("HGET", KEYS[1], name) == spec then return {0, due} end
redis.call("HSET", KEYS[1], name, spec)
redis.call("ZADD", KEYS[2], ARGV[3], name)
return {1, ARGV[3]}
