--[[ Remove a job: its hash, log, every index entry and its search entries, then publish
  `remove`. Reads the type from Redis, so a stale client cannot leak zids.
  ARGV[1] key base, ARGV[2] job id
  Returns the job's type, or false when the job does not exist.
]]
--- @include "keys"
--- @include "publish"
local base, id = ARGV[1], ARGV[2]
local jkey = job_key(base, id)
local jtype = redis.call("HGET", jkey, "type")
if not jtype then return false end
local member = zid(id)
redis.call("ZREM", base .. "jobs", member)
for _, s in ipairs(STATES) do
  redis.call("ZREM", state_key(base, s), member)
  redis.call("ZREM", type_state_key(base, jtype, s), member)
end
local okey = search_object_key(base, id)
for _, word in ipairs(redis.call("ZRANGE", okey, 0, -1)) do
  redis.call("ZREM", search_word_key(base, word), id)
end
redis.call("DEL", jkey, log_key(base, id), okey)
publish(base, id, "remove", "," .. cjson.encode(jtype))
return jtype
