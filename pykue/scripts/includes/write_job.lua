--- @include "keys"
--- @include "zid"
--- @include "publish"
-- Writes one new job's hash, search words and (when it is inactive) `enqueue` event, from
-- the values a save passes per job, read from `args` at `i` (save_jobs.lua's header: type,
-- data JSON, priority, ..., unique key, unique for, retention rules, n_words, word, ...), under
-- the id `id`. `tails` caches the JSON of each type in the event. `state`, when given,
-- overrides the delayed or inactive it would get (a workflow's step that will never run is
-- created failed: includes/workflow.lua). Returns its zid, state, priority (text, as given:
-- Redis need not format numbers), delay, and where the next job's values start in `args`.
-- The id of the job that holds the unique key `ukey` ("": none): one that exists and waits
-- or runs, or ended less than its unique_for ago (the key's expiry). A key left by a job that
-- ended where no pykue script saw it (a Node Kue worker, a state set by hand), or was removed
-- by Node, is stale: it is taken for `new_id` (text), the job about to be made, and nil returned.
local function unique_holder(base, ukey, new_id)
  if ukey == "" then return nil end
  local key = unique_key(base, ukey)
  local holder = redis.call("GET", key)
  local state = holder and redis.call("HGET", job_key(base, holder), "state")
  if state and (state ~= "complete" and state ~= "failed" or redis.call("PTTL", key) > 0) then return holder end
  redis.call("SET", key, new_id)
  return nil
end

local function write_job(base, events, args, i, id, now_text, tails, state)
  local now = tonumber(now_text)
  local jtype, priority_text = args[i], args[i + 2]
  local delay = tonumber(args[i + 4])
  state = state or ((delay > 0) and "delayed" or "inactive")
  local id_text = string.format("%d", id)  -- tostring would write 1e+14 from there on
  local jkey = job_key(base, id_text)
  redis.call("HSET", jkey, "type", jtype, "data", args[i + 1], "priority", priority_text, "max_attempts", args[i + 3],
    "created_at", now_text, "promote_at", (delay > 0) and (now + delay) or now_text, "updated_at", now_text, "state", state)
  if delay > 0 or args[i + 5] ~= "0" or args[i + 6] ~= "" or args[i + 7] ~= "" then
    local extra = {}
    if delay > 0 then extra[#extra + 1] = "delay"; extra[#extra + 1] = delay end
    if args[i + 5] ~= "0" then extra[#extra + 1] = "ttl"; extra[#extra + 1] = args[i + 5] end
    if args[i + 6] ~= "" then extra[#extra + 1] = "backoff"; extra[#extra + 1] = args[i + 6] end
    if args[i + 7] ~= "" then extra[#extra + 1] = "removeOnComplete"; extra[#extra + 1] = args[i + 7] end
    redis.call("HSET", jkey, unpack(extra))
  end
  if args[i + 8] ~= "" then redis.call("HSET", jkey, "pykue_unique", args[i + 8], "pykue_unique_for", args[i + 9]) end
  if args[i + 10] ~= "" then redis.call("HSET", jkey, "pykue_keep_complete", args[i + 10]) end
  if args[i + 11] ~= "" then redis.call("HSET", jkey, "pykue_keep_failed", args[i + 11]) end
  local n_words = tonumber(args[i + 12])
  for w = 1, n_words do
    local word = args[i + 12 + w]
    redis.call("ZINCRBY", search_word_key(base, word), "1", id_text)
    redis.call("ZINCRBY", search_object_key(base, id_text), "1", word)
  end
  if state == "inactive" then
    local tail = tails[jtype]
    if not tail then tail = "," .. cjson.encode(jtype); tails[jtype] = tail end
    publish(events, id_text, "enqueue", tail)
  end
  return zid(id_text), state, priority_text, delay, i + 13 + n_words
end

-- One new job (write_job) with its index writes made straight, not grouped: task.delay's
-- save, a fired schedule. `k`: {jobs, types, inactive, delayed, events}, keys.py's names.
local function save_one(base, k, args, i, id, now_text)
  local jtype = args[i]
  local member, state, priority, delay = write_job(base, k.events, args, i, id, now_text, {})
  redis.call("ZADD", k.jobs, priority, member)
  redis.call("ZADD", k[state], (delay > 0) and (tonumber(now_text) + delay) or priority, member)
  redis.call("ZADD", type_state_key(base, jtype, state), priority, member)
  redis.call("SADD", k.types, jtype)
  if state == "inactive" then redis.call("LPUSH", tokens_key(base, jtype), "1") end
end
