--[[ A worker's heartbeat: its record (what it is and runs now, keys.py's worker_record) is
  rewritten and lives as long as its lease (the same `ms`), so a worker that dies ages out
  with it and leaves nothing behind. The index of live workers is a sorted set scored by
  each record's expiry; entries that expired are dropped here, so a reader lists only the
  workers alive (or recently so) without scanning keys. The time is Redis's: every reader
  compares it with the same clock.
  KEYS[1] the worker's record (a hash), KEYS[2] the workers' index
  ARGV[1] worker id, ARGV[2] ms the record lives, ARGV[3] the record's JSON
  Returns the heartbeat's time (ms, Redis's clock).
]]
local t = redis.call("TIME")
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ms = tonumber(ARGV[2])
redis.call("HSET", KEYS[1], "info", ARGV[3], "heartbeat_at", now)
redis.call("PEXPIRE", KEYS[1], ms)
redis.call("ZADD", KEYS[2], now + ms, ARGV[1])
redis.call("ZREMRANGEBYSCORE", KEYS[2], "-inf", now)
return now
