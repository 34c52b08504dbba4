--- @include "keys"
-- Fleet-wide limits of a type, in the hash limits_key: field <type> -> "<n> <window ms>
-- <concurrency> <flags>" (0: no such limit; flags: see set_limits.lua). A type without a
-- field costs its claim one HGET. The rate is a sliding window on Redis's clock: the starts
-- of the last <window ms> are a sorted set (rate_key) scored by their time, so no window of
-- that length ever holds more than <n> starts, whichever workers made them.
-- When a limit stops a claim short, the worker waits for the time it returns: until the
-- window's oldest start leaves it, or CONCURRENCY_RETRY_MS for a type at its concurrency
-- (the worker whose job ends refills that slot in the same call, without waiting).
local CONCURRENCY_RETRY_MS = 100

-- allowed, wait_ms, rate key or nil, Redis now (ms), window ms: how many of `want` jobs
-- of `jtype` may start now under its limits `spec`.
local function limited(base, jtype, want, spec)
  local n, window, concurrency = string.match(spec, "^(%d+) (%d+) (%d+)")
  n, window, concurrency = tonumber(n), tonumber(window), tonumber(concurrency)
  local allowed, wait, rkey, now = want, 0, nil, 0
  if concurrency and concurrency > 0 then
    local room = concurrency - redis.call("ZCARD", type_state_key(base, jtype, "active"))
    if room < allowed then allowed, wait = math.max(room, 0), CONCURRENCY_RETRY_MS end
  end
  if n and n > 0 and window and window > 0 then
    local t = redis.call("TIME")
    now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
    rkey = rate_key(base, jtype)
    redis.call("ZREMRANGEBYSCORE", rkey, "-inf", now - window)
    local room = n - redis.call("ZCARD", rkey)
    if room < allowed then
      allowed = math.max(room, 0)
      local oldest = redis.call("ZRANGE", rkey, 0, 0, "WITHSCORES")
      local frees_at = oldest[2] and (tonumber(oldest[2]) + window) or now
      wait = math.max(wait, frees_at - now + 1)
    end
  end
  return allowed, wait, rkey, now, window
end
