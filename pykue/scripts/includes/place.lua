--- @include "keys"
--- @include "zid"
--- @include "number_arg"
-- Kue's score of a job in the global set of `state` (Job.prototype.state in Kue's lib/queue/job.js).
local function state_score(state, priority, promote_at, ttl, now)
  if state == "delayed" then return tonumber(promote_at) or now end
  if state == "active" then
    local t = tonumber(ttl) or 0
    if t > 0 then return now + t end
    if priority < 0 then return priority end
    return -priority
  end
  return priority
end

-- Move a job's zid out of `old` (or out of every state when old is nil) and into `new`,
-- pushing a wake-up token when it becomes inactive. Caller has already checked the hash.
-- `q`: {base = the key prefix, states = state_keys(...)}.
local function place(q, id, jtype, old, new, priority, score)
  local member = zid(id)
  if old == nil then
    for _, s in ipairs(STATES) do
      if s ~= new then
        redis.call("ZREM", q.states[s], member)
        redis.call("ZREM", type_state_key(q.base, jtype, s), member)
      end
    end
  elseif old ~= new then
    redis.call("ZREM", q.states[old], member)
    redis.call("ZREM", type_state_key(q.base, jtype, old), member)
  end
  redis.call("ZADD", q.states[new], number_arg(score), member)
  redis.call("ZADD", type_state_key(q.base, jtype, new), number_arg(priority), member)
  if new == "inactive" then
    redis.call("LPUSH", tokens_key(q.base, jtype), "1")
  end
end
