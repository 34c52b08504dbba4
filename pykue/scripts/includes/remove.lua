--- @include "keys"
--- @include "zid"
--- @include "publish"
--- @include "flow"
-- Delete a job for good: its zid from every index, its search entries, its hash and log,
-- and its place in a workflow (flow.lua), then publish Kue's `remove` event. `q`: {base, jobs, events, states}.
local function remove_job(q, id, jtype)
  local member = zid(id)
  redis.call("ZREM", q.jobs, member)
  for _, s in ipairs(STATES) do
    redis.call("ZREM", q.states[s], member)
    redis.call("ZREM", type_state_key(q.base, jtype, s), member)
  end
  flow_forget(q.base, job_key(q.base, id))
  local okey = search_object_key(q.base, id)
  for _, word in ipairs(redis.call("ZRANGE", okey, 0, -1)) do
    redis.call("ZREM", search_word_key(q.base, word), id)
  end
  redis.call("DEL", job_key(q.base, id), log_key(q.base, id), okey)
  publish(q.events, id, "remove", "," .. cjson.encode(jtype))
end
