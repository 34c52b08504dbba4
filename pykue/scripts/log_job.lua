--[[ Append a log line. Never recreates a removed job (Kue's partial-hash bug).
  ARGV[1] key base, ARGV[2] job id, ARGV[3] line, ARGV[4] now (ms)
  Returns 1, or 0 when the job does not exist.
]]
--- @include "keys"
local base, id = ARGV[1], ARGV[2]
local jkey = job_key(base, id)
if redis.call("EXISTS", jkey) == 0 then return 0 end
redis.call("RPUSH", log_key(base, id), ARGV[3])
redis.call("HSET", jkey, "updated_at", ARGV[4])
return 1
