--[[ Give a claimed job back untouched, only if the claim still holds: it returns to
  inactive (token, `enqueue`) without spending an attempt. For jobs a worker claimed but
  never received (the claim's reply was lost with its connection).
  KEYS[1] key prefix ("q:"), KEYS[2] the job's hash, KEYS[3] its log, KEYS[4] events channel,
  KEYS[5] inactive set, KEYS[6] active set
  Derived from the prefix: the job's type's sets and token list.
  ARGV[1] job id, ARGV[2] claim token, ARGV[3] now (ms), ARGV[4] log line
  Returns 1 (DONE), or 0 (CLAIM_LOST).
]]
--- @include "claims"
--- @include "publish"
--- @include "place"
local q = {base = KEYS[1], events = KEYS[4], states = {inactive = KEYS[5], active = KEYS[6]}}
local jkey = KEYS[2]
local id, claim, now = ARGV[1], ARGV[2], tonumber(ARGV[3])
local h = redis.call("HMGET", jkey, "type", "state", "priority", "pykue_claim", "workerId")
if not claim_holds(h[2], h[4], h[5], h[1], claim) then return 0 end
local priority = tonumber(h[3]) or 0
redis.call("HSET", jkey, "state", "inactive", "updated_at", now)
redis.call("HDEL", jkey, "pykue_claim")
redis.call("RPUSH", KEYS[3], ARGV[4])
place(q, id, h[1], "active", "inactive", priority, priority)
publish(q.events, id, "enqueue", "," .. cjson.encode(h[1]))
return 1
