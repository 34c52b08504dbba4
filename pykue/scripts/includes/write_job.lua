--- @include "keys"
--- @include "zid"
--- @include "publish"
-- A new job's hash (Kue's fields) and search words, from its save_jobs arguments in `a` from
-- index `i`: type, data JSON, priority, max attempts, delay ms ("0": none), ttl ms ("0":
-- none), backoff ("" or true/JSON), removeOnComplete ("" or "true"), n_words, word, ...
-- Kue's hash: created_at = updated_at = now, promote_at = now + delay; a job with a delay is
-- delayed, any other inactive with an `enqueue` event (`tails`: that event's tail by type,
-- made once per call) unless `state` forces another one (a workflow's step that will never
-- run is created failed). Its indexes are index_new_job's. Returns its state, its delay and
-- the index after its arguments. Shared by save_jobs.lua and the workflows (workflow.lua).
local function write_job(base, events, a, i, id_text, now, now_text, tails, state)
  local jtype, priority_text = a[i], a[i + 2]
  local delay = tonumber(a[i + 4])
  state = state or ((delay > 0) and "delayed" or "inactive")
  local jkey = job_key(base, id_text)
  redis.call("HSET", jkey, "type", jtype, "data", a[i + 1], "priority", priority_text, "max_attempts", a[i + 3],
    "created_at", now_text, "promote_at", (delay > 0) and (now + delay) or now_text, "updated_at", now_text, "state", state)
  if delay > 0 or a[i + 5] ~= "0" or a[i + 6] ~= "" or a[i + 7] ~= "" then
    local extra = {}
    if delay > 0 then extra[#extra + 1] = "delay"; extra[#extra + 1] = delay end
    if a[i + 5] ~= "0" then extra[#extra + 1] = "ttl"; extra[#extra + 1] = a[i + 5] end
    if a[i + 6] ~= "" then extra[#extra + 1] = "backoff"; extra[#extra + 1] = a[i + 6] end
    if a[i + 7] ~= "" then extra[#extra + 1] = "removeOnComplete"; extra[#extra + 1] = a[i + 7] end
    redis.call("HSET", jkey, unpack(extra))
  end
  local n_words = tonumber(a[i + 8])
  for w = 1, n_words do
    local word = a[i + 8 + w]
    redis.call("ZINCRBY", search_word_key(base, word), 1, id_text)
    redis.call("ZINCRBY", search_object_key(base, id_text), 1, word)
  end
  if state == "inactive" then
    local tail = tails[jtype]
    if not tail then tail = "," .. cjson.encode(jtype); tails[jtype] = tail end
    publish(events, id_text, "enqueue", tail)
  end
  return state, delay, i + 9 + n_words
end

-- One new job's index entries, written straight: all jobs, its state's global and type sets
-- (`state_set`: the global one; `score` its score there), a wake-up token when inactive.
local function index_new_job(base, all_jobs, state_set, jtype, member, state, priority_text, score)
  redis.call("ZADD", all_jobs, priority_text, member)
  redis.call("ZADD", state_set, score, member)
  redis.call("ZADD", type_state_key(base, jtype, state), priority_text, member)
  if state == "inactive" then redis.call("LPUSH", tokens_key(base, jtype), 1) end
end
