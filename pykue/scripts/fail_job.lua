--[[ A failed attempt, only if the given claim still holds. Stores the error, logs its
  summary, publishes `error`, counts the attempt, then either schedules the retry (delayed
  with the backoff delay, or inactive at once) and publishes `failed attempt`, or fails the
  job for good and publishes `failed` (Kue's events and order, section 4.2).
  ARGV[1] key base, ARGV[2] job id, ARGV[3] claim token, ARGV[4] now (ms),
  ARGV[5] error text, ARGV[6] log summary, ARGV[7] message JSON,
  ARGV[8] retry delay ms (0: retry at once), ARGV[9] "ttl" when the attempt ran out of time
  (then Kue's `ttl exceeded` comes first and `ttl exceeded ack` right after `error`, as a Kue
  worker sends them: start, ttl exceeded, error, ttl exceeded ack, failed)
  Returns attempts remaining + 1 (1 = failed for good), or 0 when the claim no longer holds.
]]
--- @include "keys"
--- @include "publish"
--- @include "place"
local base, id, claim, now = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local message, delay = ARGV[7], tonumber(ARGV[8])
local jkey = job_key(base, id)
local h = redis.call("HMGET", jkey, "type", "state", "priority", "pykue_claim", "max_attempts", "attempts", "workerId")
if not claim_holds(h[2], h[4], h[7], h[1], claim) then return 0 end
local jtype, priority = h[1], tonumber(h[3]) or 0
local max, made = tonumber(h[5]) or 1, tonumber(h[6]) or 0
if made < max then made = made + 1 end
local remaining = math.max(0, max - made)
local new = "failed"
if remaining > 0 then new = (delay > 0) and "delayed" or "inactive" end
local fields = {"error", ARGV[5], "failed_at", now, "updated_at", now, "attempts", made, "state", new}
if new == "delayed" then
  fields[#fields + 1] = "delay"; fields[#fields + 1] = delay
  fields[#fields + 1] = "promote_at"; fields[#fields + 1] = now + delay
end
if ARGV[9] == "ttl" then publish(base, id, "ttl exceeded", "") end
redis.call("HSET", jkey, unpack(fields))
redis.call("HDEL", jkey, "pykue_claim")
redis.call("RPUSH", log_key(base, id), ARGV[6])
publish(base, id, "error", "," .. cjson.encode(ARGV[5]))
if ARGV[9] == "ttl" then publish(base, id, "ttl exceeded ack", "") end
if new == "delayed" then
  place(base, id, jtype, "active", "delayed", priority, now + delay)
elseif new == "inactive" then
  place(base, id, jtype, "active", "inactive", priority, priority)
  publish(base, id, "enqueue", "," .. cjson.encode(jtype))
else
  place(base, id, jtype, "active", "failed", priority, priority)
  count_metric(base, "failed", now)
end
if remaining > 0 then
  publish(base, id, "failed attempt", "," .. message .. "," .. made)
else
  publish(base, id, "failed", "," .. message .. ",null")
end
return remaining + 1
