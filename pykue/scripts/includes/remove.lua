--- @include "keys"
--- @include "zid"
--- @include "publish"
--- @include "flow"
-- Delete a job for good: its zid from every index (pykue's retention indexes too), its
-- search entries, its hash and log, its unique key if it still holds this job, its place in a workflow
-- (flow.lua), then publish Kue's `remove` event. `q`: {base, jobs, events, states}.
local function remove_job(q, id, jtype)
  local member = zid(id)
  redis.call("ZREM", q.jobs, member)
  for _, s in ipairs(STATES) do
    redis.call("ZREM", q.states[s], member)
    redis.call("ZREM", type_state_key(q.base, jtype, s), member)
  end
  flow_forget(q.base, job_key(q.base, id))
  redis.call("ZREM", finished_key(q.base, jtype, "complete"), member)
  redis.call("ZREM", finished_key(q.base, jtype, "failed"), member)
  local okey = search_object_key(q.base, id)
  for _, word in ipairs(redis.call("ZRANGE", okey, 0, -1)) do
    redis.call("ZREM", search_word_key(q.base, word), id)
  end
  local jkey = job_key(q.base, id)
  local unique = redis.call("HGET", jkey, "pykue_unique")
  if unique and redis.call("GET", unique_key(q.base, unique)) == tostring(id) then
    redis.call("DEL", unique_key(q.base, unique))
  end
  redis.call("DEL", jkey, log_key(q.base, id), okey)
  publish(q.events, id, "remove", "," .. cjson.encode(jtype))
end
