--[[ Create one or more jobs, each atomically: id, hash, indexes, token, event.
  ARGV[1] key base ("q:"), ARGV[2] now (ms), then for each job, 9 values and its words:
    type, data JSON, priority, max attempts, delay ms ("0": none), ttl ms ("0": none),
    backoff ("" or true/JSON), removeOnComplete ("" or "true"), n_words, word, ...
  Kue's hash: created_at = updated_at = now, promote_at = now + delay; a job with a delay
  is saved delayed, any other inactive with a wake-up token and an `enqueue` event.
  Returns the new ids, in order.
]]
--- @include "keys"
--- @include "publish"
local base, now = ARGV[1], tonumber(ARGV[2])
local i = 3
local ids = {}
while i <= #ARGV do
  local jtype, priority_text = ARGV[i], ARGV[i + 2]
  local priority, delay = tonumber(priority_text), tonumber(ARGV[i + 4])
  local state = (delay > 0) and "delayed" or "inactive"
  local id = redis.call("INCR", base .. "ids")
  local member = zid(id)
  local fields = {"type", jtype, "data", ARGV[i + 1], "priority", priority_text, "max_attempts", ARGV[i + 3],
    "created_at", now, "promote_at", now + delay, "updated_at", now, "state", state}
  if delay > 0 then fields[#fields + 1] = "delay"; fields[#fields + 1] = delay end
  if ARGV[i + 5] ~= "0" then fields[#fields + 1] = "ttl"; fields[#fields + 1] = ARGV[i + 5] end
  if ARGV[i + 6] ~= "" then fields[#fields + 1] = "backoff"; fields[#fields + 1] = ARGV[i + 6] end
  if ARGV[i + 7] ~= "" then fields[#fields + 1] = "removeOnComplete"; fields[#fields + 1] = ARGV[i + 7] end
  redis.call("HSET", job_key(base, id), unpack(fields))
  redis.call("SADD", base .. "job:types", jtype)
  redis.call("ZADD", base .. "jobs", priority, member)
  redis.call("ZADD", state_key(base, state), (delay > 0) and (now + delay) or priority, member)
  redis.call("ZADD", type_state_key(base, jtype, state), priority, member)
  local n_words = tonumber(ARGV[i + 8])
  for w = 1, n_words do
    local word = ARGV[i + 8 + w]
    redis.call("ZINCRBY", search_word_key(base, word), 1, id)
    redis.call("ZINCRBY", search_object_key(base, id), 1, word)
  end
  i = i + 9 + n_words
  if state == "inactive" then
    redis.call("LPUSH", tokens_key(base, jtype), 1)
    publish(base, id, "enqueue", "," .. cjson.encode(jtype))
  end
  ids[#ids + 1] = id
end
return ids
