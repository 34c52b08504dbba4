--[[ Give a claimed job back untouched, only if the claim still holds: it returns to
  inactive (token, `enqueue`) without spending an attempt. For jobs a worker claimed but
  never received (the claim's reply was lost with its connection).
  ARGV[1] key base, ARGV[2] job id, ARGV[3] claim token, ARGV[4] now (ms), ARGV[5] log line
  Returns 1, or 0 when the claim no longer holds.
]]
--- @include "keys"
--- @include "publish"
--- @include "place"
local base, id, claim, now = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local jkey = job_key(base, id)
local h = redis.call("HMGET", jkey, "type", "state", "priority", "pykue_claim", "workerId")
if not claim_holds(h[2], h[4], h[5], h[1], claim) then return 0 end
local priority = tonumber(h[3]) or 0
redis.call("HSET", jkey, "state", "inactive", "updated_at", now)
redis.call("HDEL", jkey, "pykue_claim")
redis.call("RPUSH", log_key(base, id), ARGV[5])
place(base, id, h[1], "active", "inactive", priority, priority)
publish(base, id, "enqueue", "," .. cjson.encode(h[1]))
return 1
