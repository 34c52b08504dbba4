--[[ Change a job's priority and re-score every index it is in; no token, no event
  (Kue's HTTP route pushed a second token and enqueue event here: a bug we do not copy).
  ARGV[1] key base, ARGV[2] job id, ARGV[3] priority (integer), ARGV[4] now (ms)
  Returns 1, or 0 when the job does not exist.
]]
--- @include "keys"
--- @include "place"
local base, id, priority, now = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local jkey = job_key(base, id)
local h = redis.call("HMGET", jkey, "type", "state", "promote_at", "ttl")
local jtype, state = h[1], h[2]
if not jtype then return 0 end
redis.call("HSET", jkey, "priority", priority, "updated_at", now)
local member = zid(id)
redis.call("ZADD", jobs_key(base), priority, member)
if state then
  redis.call("ZADD", type_state_key(base, jtype, state), priority, member)
  if state ~= "delayed" and not (state == "active" and (tonumber(h[4]) or 0) > 0) then
    redis.call("ZADD", state_key(base, state), state_score(state, priority, h[3], h[4], now), member)
  end
end
return 1
