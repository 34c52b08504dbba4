--[[ An admin state change (Kue's job.inactive()/complete()/failed()/delayed()/active()).
  Reads the job's current state from Redis, cleans the zid out of every other state set
  (healing indexes Kue may have left inconsistent), and revokes any worker's claim when the
  state really changes.
  KEYS[1] key prefix ("q:"), KEYS[2] the job's hash, KEYS[3] events channel,
  KEYS[4..8] the five state sets
  Derived from the prefix: the job's type's sets and token list.
  ARGV[1] job id, ARGV[2] new state, ARGV[3] now (ms)
  Returns: the old state, or false when the job does not exist.
]]
--- @include "keys"
--- @include "publish"
--- @include "place"
local q = {base = KEYS[1], events = KEYS[3], states = state_keys(4)}
local jkey = KEYS[2]
local id, new, now = ARGV[1], ARGV[2], tonumber(ARGV[3])
local h = redis.call("HMGET", jkey, "type", "state", "priority", "promote_at", "ttl")
local jtype, old = h[1], h[2]
if not jtype then return false end
local priority = tonumber(h[3]) or 0
local updates = {"state", new, "updated_at", now}
if new == "complete" then updates[#updates + 1] = "progress"; updates[#updates + 1] = 100 end
if new == "failed" then updates[#updates + 1] = "failed_at"; updates[#updates + 1] = now end
redis.call("HSET", jkey, unpack(updates))
if old ~= new then redis.call("HDEL", jkey, "pykue_claim") end  -- same state: a running claim stays
local tokens = tokens_key(q.base, jtype)
local token_before = redis.call("LLEN", tokens)
place(q, id, jtype, nil, new, priority, state_score(new, priority, h[4], h[5], now))
if new == "inactive" then
  if old == "inactive" and token_before > 0 then
    redis.call("LPOP", tokens)
  else
    publish(q.events, id, "enqueue", "," .. cjson.encode(jtype))
  end
end
return old or ""
