--[[ Claim up to n inactive jobs of each given type for one worker process (see
  includes/claim.lua), if it holds its lease (includes/lease.lua). Consumes one wake-up
  token per job claimed beyond the tokens the caller already popped (and gives back those
  popped for jobs a fleet-wide limit leaves waiting).
  KEYS[1] key prefix ("q:"), KEYS[2] events channel, KEYS[3] inactive set, KEYS[4] active set,
  KEYS[5] the worker's lease key
  Derived from the prefix: the claimed jobs' hashes, the types' sets and token lists, the
  limits hash and the rate windows of limited types (includes/limits.lua).
  ARGV[1] now (ms), ARGV[2] worker process id, ARGV[3] tokens already popped (with ARGV[4]
       the type they were popped from, or ""), then pairs: type, n
  Returns {flat list per claimed job: id, claim, n_fields, field, value, ...; status: 1 (DONE),
  or -2 (NO_LEASE: the worker has no lease, nothing was claimed); {type, ms, ...}: the types
  whose fleet-wide limits left jobs waiting, and how long to wait before asking again}
]]
--- @include "lease"
--- @include "claim"
if redis.replicate_commands then redis.replicate_commands() end  -- a rate limit reads TIME (Redis < 5)
local q = {base = KEYS[1], events = KEYS[2], states = {inactive = KEYS[3], active = KEYS[4]}, waits = {}}
local now, wid = tonumber(ARGV[1]), ARGV[2]
local popped, popped_type = tonumber(ARGV[3]), ARGV[4]
local out = {}
if not holds_lease(KEYS[5]) then return {out, NO_LEASE, q.waits} end
for a = 5, #ARGV, 2 do
  local jtype = ARGV[a]
  local waits = #q.waits
  local extra = claim_type(q, now, wid, jtype, tonumber(ARGV[a + 1]), out)
  if jtype == popped_type then extra = extra - popped end
  if extra > 0 then redis.call("LTRIM", tokens_key(q.base, jtype), extra, -1) end
  if extra < 0 and #q.waits > waits then  -- a limit left the popped tokens' jobs waiting
    for _ = 1, -extra do redis.call("LPUSH", tokens_key(q.base, jtype), 1) end
  end
end
return {out, 1, q.waits}
