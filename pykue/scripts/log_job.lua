--[[ Append a log line. Never recreates a removed job (Kue's partial-hash bug).
  KEYS[1] the job's hash, KEYS[2] its log
  ARGV[1] line, ARGV[2] now (ms), ARGV[3] claim token or "" (a worker's line is dropped once
  its claim is gone: a run that outlived its TTL must not write into the log of the retry
  that replaced it)
  Returns 1 (DONE), -1 (NOT_FOUND: no such job) or 0 (CLAIM_LOST).
]]
--- @include "claims"
local jkey, claim = KEYS[1], ARGV[3]
local h = redis.call("HMGET", jkey, "type", "state", "pykue_claim", "workerId")
if not h[1] and redis.call("EXISTS", jkey) == 0 then return -1 end
if claim ~= "" and not claim_holds(h[2], h[3], h[4], h[1], claim) then return 0 end
redis.call("RPUSH", KEYS[2], ARGV[1])
redis.call("HSET", jkey, "updated_at", ARGV[2])
return 1
