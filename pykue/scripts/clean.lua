--[[ One page of queue.clean: remove the jobs of a state set (Kue's, scored by priority, not
  time, so it is walked by rank) whose hash is still in that state and was last updated
  before a cutoff. A call looks at `page` ids at most, so Redis is never blocked long; the
  caller calls again from the returned rank until it is -1.
  KEYS[1] key prefix ("q:"), KEYS[2] the set walked (a state set, or a type's), KEYS[3] all
  jobs set, KEYS[4] events channel, KEYS[5..9] the five state sets
  Derived from the prefix (by includes/remove.lua): the removed jobs' hashes, logs, search
  entries, types' sets, unique keys and retention indexes.
  ARGV[1] state, ARGV[2] cutoff (ms: updated_at at or before it), ARGV[3] rank to start at,
  ARGV[4] page size, ARGV[5] most jobs to remove
  Returns {rank to go on from (-1: the end), jobs removed}.
]]
--- @include "remove"
local q = {base = KEYS[1], jobs = KEYS[3], events = KEYS[4], states = state_keys(5)}
local state, cutoff = ARGV[1], tonumber(ARGV[2])
local start, page, most = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local members = redis.call("ZRANGE", KEYS[2], start, start + page - 1)
local removed = 0
for n, member in ipairs(members) do
  if removed >= most then return {start + n - 1 - removed, removed} end
  local id = zid_id(member)
  local h = redis.call("HMGET", job_key(q.base, id), "state", "type", "updated_at")
  if h[1] == state and h[2] and (tonumber(h[3]) or 0) <= cutoff then
    remove_job(q, id, h[2])
    removed = removed + 1
  end
end
if #members < page then return {-1, removed} end
return {start + #members - removed, removed}
