--[[ Remove a job: its hash, log, every index entry and its search entries, then publish
  `remove`. Reads the type from Redis, so a stale client cannot leak zids.
  ARGV[1] key base, ARGV[2] job id
  Returns the job's type, or false when the job does not exist.
]]
--- @include "keys"
--- @include "publish"
--- @include "remove"
local base, id = ARGV[1], ARGV[2]
local jkey = job_key(base, id)
local jtype = redis.call("HGET", jkey, "type")
if not jtype then return false end
remove_job(base, id, jtype)
return jtype
