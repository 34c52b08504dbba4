--[[ Append a log line. Never recreates a removed job (Kue's partial-hash bug).
  ARGV[1] key base, ARGV[2] job id, ARGV[3] line, ARGV[4] now (ms),
  ARGV[5] claim token or "" (a worker's line is dropped once its claim is gone: a run that
  outlived its TTL must not write into the log of the retry that replaced it)
  Returns 1; 0 when the job does not exist; -1 when the claim no longer holds.
]]
--- @include "keys"
local base, id, claim = ARGV[1], ARGV[2], ARGV[5]
local jkey = job_key(base, id)
local h = redis.call("HMGET", jkey, "type", "state", "pykue_claim", "workerId")
if not h[1] and redis.call("EXISTS", jkey) == 0 then return 0 end
if claim ~= "" and not claim_holds(h[2], h[3], h[4], h[1], claim) then return -1 end
redis.call("RPUSH", log_key(base, id), ARGV[3])
redis.call("HSET", jkey, "updated_at", ARGV[4])
return 1
