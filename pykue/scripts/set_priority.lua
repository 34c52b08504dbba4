--[[ Change a job's priority and re-score every index it is in; no token, no event
  (Kue's HTTP route pushed a second token and enqueue event here: a bug we do not copy).
  KEYS[1] key prefix ("q:"), KEYS[2] the job's hash, KEYS[3] all jobs set,
  KEYS[4..8] the five state sets
  Derived from the prefix: the job's type's set of its state (and the global set of a state
  outside Kue's five, written by hand).
  ARGV[1] job id, ARGV[2] priority (integer), ARGV[3] now (ms)
  Returns 1 (DONE), or -1 (NOT_FOUND: no such job).
]]
--- @include "keys"
--- @include "zid"
--- @include "place"
local base, jkey, states = KEYS[1], KEYS[2], state_keys(4)
local id, priority, now = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local h = redis.call("HMGET", jkey, "type", "state", "promote_at", "ttl")
local jtype, state = h[1], h[2]
if not jtype then return -1 end
redis.call("HSET", jkey, "priority", priority, "updated_at", now)
local member = zid(id)
redis.call("ZADD", KEYS[3], priority, member)
if state then
  redis.call("ZADD", type_state_key(base, jtype, state), priority, member)
  if state ~= "delayed" and not (state == "active" and (tonumber(h[4]) or 0) > 0) then
    redis.call("ZADD", states[state] or state_key(base, state), state_score(state, priority, h[3], h[4], now), member)
  end
end
return 1
