--[[ Remove a job: its hash, log, every index entry and its search entries, then publish
  `remove`. Reads the type from Redis, so a stale client cannot leak zids.
  KEYS[1] key prefix ("q:"), KEYS[2] the job's hash, KEYS[3] all jobs set,
  KEYS[4] events channel, KEYS[5..9] the five state sets
  Derived from the prefix (by includes/remove.lua, which complete_jobs shares): the job's log
  and search entry, its type's sets, its search words' sets, its workflow's hash (flow.lua).
  ARGV[1] job id
  Returns the job's type, or false when the job does not exist.
]]
--- @include "remove"
local q = {base = KEYS[1], jobs = KEYS[3], events = KEYS[4], states = state_keys(5)}
local id = ARGV[1]
local jtype = redis.call("HGET", KEYS[2], "type")
if not jtype then return false end
remove_job(q, id, jtype)
return jtype
