--[[ An admin state change (Kue's job.inactive()/complete()/failed()/delayed()/active()).
  Reads the job's current state from Redis, cleans the zid out of every other state set
  (healing indexes Kue may have left inconsistent), and revokes any worker's claim when the
  state really changes.
  ARGV[1] key base, ARGV[2] job id, ARGV[3] new state, ARGV[4] now (ms)
  Returns: the old state, or false when the job does not exist.
]]
--- @include "keys"
--- @include "publish"
--- @include "place"
local base, id, new, now = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local jkey = job_key(base, id)
local h = redis.call("HMGET", jkey, "type", "state", "priority", "promote_at", "ttl")
local jtype, old = h[1], h[2]
if not jtype then return false end
local priority = tonumber(h[3]) or 0
local updates = {"state", new, "updated_at", now}
if new == "complete" then updates[#updates + 1] = "progress"; updates[#updates + 1] = 100 end
if new == "failed" then updates[#updates + 1] = "failed_at"; updates[#updates + 1] = now end
redis.call("HSET", jkey, unpack(updates))
if old ~= new then redis.call("HDEL", jkey, "pykue_claim") end  -- same state: a running claim stays
local token_before = redis.call("LLEN", tokens_key(base, jtype))
place(base, id, jtype, nil, new, priority, state_score(new, priority, h[4], h[5], now))
if new == "inactive" then
  if old == "inactive" and token_before > 0 then
    redis.call("LPOP", tokens_key(base, jtype))
  else
    publish(base, id, "enqueue", "," .. cjson.encode(jtype))
  end
end
return old or ""
