--[[ Record progress, refresh an active job's TTL deadline, publish `progress`.
  ARGV[1] key base, ARGV[2] job id, ARGV[3] percent, ARGV[4] data JSON or "",
  ARGV[5] now (ms), ARGV[6] claim token or "" (a worker's call is refused once its claim is gone)
  Returns 1; 0 when the job does not exist; -1 when the claim no longer holds.
]]
--- @include "keys"
--- @include "publish"
local base, id, percent, data, now, claim = ARGV[1], ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5]), ARGV[6]
local jkey = job_key(base, id)
local h = redis.call("HMGET", jkey, "type", "state", "ttl", "pykue_claim", "workerId")
if not h[1] then return 0 end
if claim ~= "" and not claim_holds(h[2], h[4], h[5], h[1], claim) then return -1 end
redis.call("HSET", jkey, "progress", percent, "updated_at", now)
if data ~= "" then redis.call("HSET", jkey, "progress_data", data) end
local ttl = tonumber(h[3]) or 0
if h[2] == "active" and ttl > 0 then
  redis.call("ZADD", state_key(base, "active"), now + ttl, zid(id))
end
if data == "" then data = "null" end
publish(base, id, "progress", "," .. percent .. "," .. data)
return 1
