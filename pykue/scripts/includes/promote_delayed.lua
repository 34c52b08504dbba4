--- @include "keys"
--- @include "zid"
--- @include "publish"
--- @include "place"
-- Promote up to `limit` due delayed jobs to inactive, each at most once (its hash must still
-- say delayed): Kue's `promotion` then `enqueue`. Returns how many were promoted.
-- `q`: {base, events, states}.
local function promote_delayed(q, now, limit)
  local promoted = 0
  for _, member in ipairs(redis.call("ZRANGEBYSCORE", q.states.delayed, 0, now, "LIMIT", 0, limit)) do
    local id = zid_id(member)
    local jkey = job_key(q.base, id)
    local h = redis.call("HMGET", jkey, "type", "state", "priority")
    if h[2] == "delayed" and h[1] then  -- a typeless hash is what a stale Kue Job leaves of a removed one
      local priority = tonumber(h[3]) or 0
      redis.call("HSET", jkey, "state", "inactive", "updated_at", now)
      publish(q.events, id, "promotion", "")
      place(q, id, h[1], "delayed", "inactive", priority, priority)
      publish(q.events, id, "enqueue", "," .. cjson.encode(h[1]))
      promoted = promoted + 1
    else  -- its hash says otherwise: drop it from the delayed indexes, whatever wrote it there
      redis.call("ZREM", q.states.delayed, member)
      if h[1] then redis.call("ZREM", type_state_key(q.base, h[1], "delayed"), member) end
    end
  end
  return promoted
end
