-- A worker's lease: its key says the worker lives, for `ms` more; no key, no lease.
local function renew_lease(key, now, ms)
  if key ~= "" then redis.call("SET", key, now, "PX", ms) end
end
