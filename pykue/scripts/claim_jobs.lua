--[[ Claim up to n inactive jobs of each given type for one worker process: highest priority
  first, FIFO within a priority (ZPOPMIN: lowest score, then lowest zid). Each job becomes
  active in its hash and both indexes with a fencing claim token, and `start` is published.
  Consumes one wake-up token per job claimed beyond the tokens the caller already popped.
  ARGV[1] key base, ARGV[2] now (ms), ARGV[3] worker process id, ARGV[4] tokens already popped
       (with ARGV[5] the type they were popped from, or ""), then pairs: type, n
  Returns a flat list per claimed job: id, claim, n_fields, field, value, ... where the
  fields are the hash as it was before the claim (the caller applies the claim's changes).
]]
--- @include "keys"
--- @include "publish"
--- @include "place"
local base, now, wid = ARGV[1], tonumber(ARGV[2]), ARGV[3]
local popped, popped_type = tonumber(ARGV[4]), ARGV[5]
local out = {}
for a = 6, #ARGV, 2 do
  local jtype, want = ARGV[a], tonumber(ARGV[a + 1])
  local got = 0
  local members = redis.call("ZPOPMIN", type_state_key(base, jtype, "inactive"), want)
  for m = 1, #members, 2 do
    local member = members[m]
    local id = string.sub(member, string.find(member, "|", 1, true) + 1)
    local jkey = job_key(base, id)
    local fields = redis.call("HGETALL", jkey)
    local f = {}
    for i = 1, #fields, 2 do f[fields[i]] = fields[i + 1] end
    if f.state == "inactive" then
      local priority = tonumber(f.priority) or 0
      local claim = claim_token(wid, f.attempts, now)
      redis.call("ZREM", state_key(base, "inactive"), member)
      redis.call("ZADD", state_key(base, "active"), state_score("active", priority, nil, f.ttl, now), member)
      redis.call("ZADD", type_state_key(base, jtype, "active"), priority, member)
      redis.call("HSET", jkey, "state", "active", "started_at", now, "updated_at", now,
        "workerId", wid .. ":" .. jtype, "pykue_claim", claim)
      publish(base, id, "start", "," .. cjson.encode(jtype) .. ",null")
      out[#out + 1] = id
      out[#out + 1] = claim
      out[#out + 1] = #fields / 2
      for _, v in ipairs(fields) do out[#out + 1] = v end
      got = got + 1
    elseif not f.type then
      redis.call("ZREM", state_key(base, "inactive"), member)
    end
  end
  local extra = got
  if jtype == popped_type then extra = got - popped end
  if extra > 0 then redis.call("LTRIM", tokens_key(base, jtype), extra, -1) end
end
return out
