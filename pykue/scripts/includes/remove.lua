-- Delete a job for good: its zid from every index, its search entries, its hash and log,
-- then publish Kue's `remove` event.
local function remove_job(base, id, jtype)
  local member = zid(id)
  redis.call("ZREM", jobs_key(base), member)
  for _, s in ipairs(STATES) do
    redis.call("ZREM", state_key(base, s), member)
    redis.call("ZREM", type_state_key(base, jtype, s), member)
  end
  local okey = search_object_key(base, id)
  for _, word in ipairs(redis.call("ZRANGE", okey, 0, -1)) do
    redis.call("ZREM", search_word_key(base, word), id)
  end
  redis.call("DEL", job_key(base, id), log_key(base, id), okey)
  publish(base, id, "remove", "," .. cjson.encode(jtype))
end
