--[[ Record progress, refresh an active job's TTL deadline, publish `progress`.
  KEYS[1] the job's hash, KEYS[2] active set, KEYS[3] events channel
  ARGV[1] job id, ARGV[2] percent, ARGV[3] data JSON or "", ARGV[4] now (ms),
  ARGV[5] claim token or "" (a worker's call is refused once its claim is gone)
  Returns 1 (DONE), -1 (NOT_FOUND: no such job) or 0 (CLAIM_LOST).
]]
--- @include "zid"
--- @include "claims"
--- @include "publish"
local jkey = KEYS[1]
local id, percent, data, now, claim = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5]
local h = redis.call("HMGET", jkey, "type", "state", "ttl", "pykue_claim", "workerId")
if not h[1] then return -1 end
if claim ~= "" and not claim_holds(h[2], h[4], h[5], h[1], claim) then return 0 end
redis.call("HSET", jkey, "progress", percent, "updated_at", now)
if data ~= "" then redis.call("HSET", jkey, "progress_data", data) end
local ttl = tonumber(h[3]) or 0
if h[2] == "active" and ttl > 0 then
  redis.call("ZADD", KEYS[2], now + ttl, zid(id))
end
if data == "" then data = "null" end
publish(KEYS[3], id, "progress", "," .. percent .. "," .. data)
return 1
