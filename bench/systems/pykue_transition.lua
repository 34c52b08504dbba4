--[[ W4 yardstick: the least a Kue-layout save can do, next to pykue's own save_jobs.lua.
  Saves one new inactive job in Kue 0.11's layout, as Kue's save() does, but atomically.
  KEYS[1] ids counter            KEYS[2] jobs (all)           KEYS[3] jobs:inactive
  KEYS[4] jobs:<type>:inactive   KEYS[5] <type>:jobs (tokens) KEYS[6] job:types
  ARGV[1] prefix  ARGV[2] type  ARGV[3] data (JSON)  ARGV[4] priority  ARGV[5] now_ms
  Returns the new job id.
]]
local id = redis.call('INCR', KEYS[1])
local zid = string.format('%02d|%d', string.len(tostring(id)), id)
redis.call('HSET', ARGV[1] .. ':job:' .. id, 'type', ARGV[2], 'data', ARGV[3], 'priority', ARGV[4],
  'created_at', ARGV[5], 'promote_at', ARGV[5], 'updated_at', ARGV[5], 'state', 'inactive',
  'max_attempts', '1', 'attempts', '0', 'progress', '0')
redis.call('ZADD', KEYS[2], ARGV[4], zid)
redis.call('ZADD', KEYS[3], ARGV[4], zid)
redis.call('ZADD', KEYS[4], ARGV[4], zid)
redis.call('SADD', KEYS[6], ARGV[2])
redis.call('LPUSH', KEYS[5], 1)
redis.call('PUBLISH', ARGV[1] .. ':events', '{"id":"' .. id .. '","event":"enqueue"}')
return id
