--[[ Create one or more jobs, each atomically: id, hash, indexes, token, event.
  ARGV[1] key base ("q:")
  ARGV[2] number of jobs
  then for each job:
    type, state ("inactive"|"delayed"), priority, promote_at,
    n_fields, field, value, ... (the hash fields besides "state"),
    n_words, word, ... (search index entries; 0 when search is off)
  Returns the new ids, in order.
]]
--- @include "keys"
--- @include "publish"
local base = ARGV[1]
local count = tonumber(ARGV[2])
local i = 3
local ids = {}
for n = 1, count do
  local jtype, state = ARGV[i], ARGV[i + 1]
  local priority, promote_at = tonumber(ARGV[i + 2]), ARGV[i + 3]
  local n_fields = tonumber(ARGV[i + 4])
  i = i + 5
  local id = redis.call("INCR", base .. "ids")
  local member = zid(id)
  local jkey = job_key(base, id)
  local fields = {"state", state}
  for f = 0, n_fields * 2 - 1 do fields[#fields + 1] = ARGV[i + f] end
  i = i + n_fields * 2
  redis.call("HSET", jkey, unpack(fields))
  redis.call("SADD", base .. "job:types", jtype)
  redis.call("ZADD", base .. "jobs", priority, member)
  if state == "delayed" then
    redis.call("ZADD", state_key(base, "delayed"), tonumber(promote_at), member)
  else
    redis.call("ZADD", state_key(base, state), priority, member)
  end
  redis.call("ZADD", type_state_key(base, jtype, state), priority, member)
  local n_words = tonumber(ARGV[i])
  for w = 1, n_words do
    local word = ARGV[i + w]
    redis.call("ZINCRBY", search_word_key(base, word), 1, id)
    redis.call("ZINCRBY", search_object_key(base, id), 1, word)
  end
  i = i + n_words + 1
  if state == "inactive" then
    redis.call("LPUSH", tokens_key(base, jtype), 1)
    publish(base, id, "enqueue", "," .. cjson.encode(jtype))
  end
  ids[n] = id
end
return ids
