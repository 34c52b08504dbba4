--[[ A worker's periodic upkeep, one call per tick, safe to run from many workers at once.
  Each step is an include of its own: renew this worker's lease; promote due delayed jobs;
  list TTL-expired jobs to fail; find stalled jobs (when asked); push missing wake-up tokens
  for the given types; read the paused types.
  KEYS[1] key prefix ("q:"), KEYS[2] events channel, KEYS[3] paused types set,
  KEYS[4] this worker's lease key, KEYS[5..9] the five state sets (STATES order)
  Derived from the prefix: the hashes, logs and per-type sets and token lists of the jobs and
  types met, and the lease keys of the workers whose claims are found.
  ARGV[1] now (ms), ARGV[2] limit per step, ARGV[3] lease ms, ARGV[4] "1" to look for stalled
  jobs, ARGV[5] this worker's id, ARGV[6..] the types whose tokens to reconcile
  Returns {promoted, {id, claim, ...} expired, {id, claim, ...} stalled, paused types,
           {id, claim, ...} active jobs claimed by this worker (when looking for stalled),
           1 when this worker's lease had lapsed before this renewal (else 0)}
]]
--- @include "lease"
--- @include "promote_delayed"
--- @include "expire_ttl"
--- @include "find_stalled"
--- @include "reconcile_tokens"
--- @include "paused"
local q = {base = KEYS[1], events = KEYS[2], states = state_keys(5)}
local now, limit, wid = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[5]
local lapsed = renew_lease(KEYS[4], now, ARGV[3]) and 0 or 1
local promoted = promote_delayed(q, now, limit)
local expired = expire_ttl(q, now, limit, wid)
local stalled, mine = {}, {}
if ARGV[4] == "1" then stalled, mine = find_stalled(q, now, wid) end
reconcile_tokens(q.base, {unpack(ARGV, 6)}, limit)
return {promoted, expired, stalled, paused_types(KEYS[3]), mine, lapsed}
