--[[ Finish a job successfully, only if this worker's claim still holds (a TTL-expired or
  recovered job cannot be completed by its stale worker). Kue's order: duration, result,
  progress 100, complete state, attempts, work-time, removeOnComplete, then `complete`.
  ARGV[1] key base, ARGV[2] job id, ARGV[3] claim token, ARGV[4] now (ms),
  ARGV[5] result JSON or "" (none), ARGV[6] metrics ttl (s)
  Returns 1, or 0 when the claim no longer holds.
]]
--- @include "keys"
--- @include "publish"
--- @include "place"
local base, id, claim, now, result = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5]
local jkey = job_key(base, id)
local h = redis.call("HMGET", jkey, "type", "state", "priority", "pykue_claim", "started_at",
  "max_attempts", "attempts", "removeOnComplete")
if h[4] ~= claim or h[2] ~= "active" then return 0 end
local jtype, priority = h[1], tonumber(h[3]) or 0
local duration = now - (tonumber(h[5]) or now)
local fields = {"duration", duration, "progress", 100, "state", "complete", "updated_at", now}
if result ~= "" then fields[#fields + 1] = "result"; fields[#fields + 1] = result end
redis.call("HSET", jkey, unpack(fields))
redis.call("HDEL", jkey, "pykue_claim")
redis.call("HDEL", claims_key(base), id)
if (tonumber(h[7]) or 0) < (tonumber(h[6]) or 1) then redis.call("HINCRBY", jkey, "attempts", 1) end
place(base, id, jtype, "active", "complete", priority, priority)
redis.call("INCRBY", base .. "stats:work-time", duration)
local metric = metric_key(base, "complete", math.floor(now / 60000))
redis.call("INCR", metric)
redis.call("EXPIRE", metric, ARGV[6])
if result == "" then result = "null" end
publish(base, id, "complete", "," .. result .. ",null")
if h[8] and h[8] ~= "" and h[8] ~= "false" then
  local member = zid(id)
  redis.call("ZREM", base .. "jobs", member)
  redis.call("ZREM", state_key(base, "complete"), member)
  redis.call("ZREM", type_state_key(base, jtype, "complete"), member)
  local okey = search_object_key(base, id)
  for _, word in ipairs(redis.call("ZRANGE", okey, 0, -1)) do
    redis.call("ZREM", search_word_key(base, word), id)
  end
  redis.call("DEL", jkey, log_key(base, id), okey)
  publish(base, id, "remove", "," .. cjson.encode(jtype))
end
return 1
