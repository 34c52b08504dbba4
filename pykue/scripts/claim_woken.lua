--[[ The claim a worker sends right behind its BLPOP on the wake-up token lists, on the same
  connection: Redis runs it as soon as it has served the BLPOP (other clients' commands may
  come in between), so a worker woken by a new job claims it in the same round trip.
  It cannot see what the BLPOP returned, so:
  - the worker's own wake-ups (a stop, a pause, a freed slot) push two elements onto its wake
    key: BLPOP takes one, and finding the other here means "claim nothing", as the worker's
    wanted types may have changed;
  - otherwise it claims as claim_jobs does with no token popped, consumes a token for each job
    it takes where it finds one, and reports per type how many it claimed and consumed: the
    worker gives back the token its BLPOP took when that one was counted here too.
  Times are the worker's: Redis's clock plus the offset the worker measured against it,
  since the caller's clock reading would be as old as the wait.
  Nothing is claimed for a worker without a lease (includes/lease.lua): a frozen worker's
  BLPOP is served all the same, and the claim behind it runs for that worker.
  KEYS[1] key prefix ("q:"), KEYS[2] the worker's wake key, KEYS[3] events channel,
  KEYS[4] inactive set, KEYS[5] active set, KEYS[6] the worker's lease key
  Derived from the prefix: the claimed jobs' hashes, the types' sets and token lists, the
  limits hash and the rate windows of limited types (includes/limits.lua).
  ARGV[1] worker process id, ARGV[2] the worker's clock minus Redis's (ms), then pairs: type, n
  Returns {now (ms, the worker's clock; -1: skipped for the worker's own wake-up, 0: nothing
  inactive or no lease), {type, claimed, tokens consumed, ...}, claim_jobs' flat list,
  status: 1 (DONE), or -2 (NO_LEASE: the worker has no lease, nothing was claimed),
  {type, ms, ...}: the types whose fleet-wide limits left jobs waiting, and how long to wait}
]]
--- @include "lease"
--- @include "claim"
if redis.replicate_commands then redis.replicate_commands() end  -- TIME then writes (Redis < 7)
local q = {base = KEYS[1], events = KEYS[3], states = {inactive = KEYS[4], active = KEYS[5]}, waits = {}}
local wid, wake = ARGV[1], KEYS[2]
local counts, out = {}, {}
if redis.call("LPOP", wake) then
  redis.call("DEL", wake)
  return {-1, counts, out, 1, q.waits}
end
local queued = {}
for a = 3, #ARGV, 2 do queued[#queued + 1] = type_state_key(q.base, ARGV[a], "inactive") end
if redis.call("EXISTS", unpack(queued)) == 0 then return {0, counts, out, 1, q.waits} end
if not holds_lease(KEYS[6]) then return {0, counts, out, NO_LEASE, q.waits} end
local time = redis.call("TIME")
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000) + tonumber(ARGV[2])
for a = 3, #ARGV, 2 do
  local jtype = ARGV[a]
  local got = claim_type(q, now, wid, jtype, tonumber(ARGV[a + 1]), out)
  if got > 0 then
    local tokens = tokens_key(q.base, jtype)
    local consumed = math.min(got, redis.call("LLEN", tokens))
    if consumed > 0 then redis.call("LTRIM", tokens, consumed, -1) end
    counts[#counts + 1] = jtype
    counts[#counts + 1] = got
    counts[#counts + 1] = consumed
  end
end
return {now, counts, out, 1, q.waits}
