-- A worker's lease: its key says the worker lives, for `ms` more; no key, no lease.
-- Returns false when the key was missing: the lease had lapsed (a worker frozen past it,
-- whose jobs others may have recovered) or was never taken (Redis down as it started).
local function renew_lease(key, now, ms)
  local held = redis.call("EXISTS", key) == 1
  redis.call("SET", key, now, "PX", ms)
  return held
end
-- Nothing is claimed for a worker without a lease (ReplyCode.NO_LEASE): other workers
-- recover its jobs as stalled, so a claim run for it while it is frozen (the one queued
-- behind its BLPOP) would only make them stall again. The worker renews it when told so.
local NO_LEASE = -2
local function holds_lease(key) return redis.call("EXISTS", key) == 1 end
