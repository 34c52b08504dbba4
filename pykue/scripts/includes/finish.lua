--- @include "keys"
--- @include "zid"
--- @include "remove"
-- pykue's rules for a job that has just ended for good (complete, or failed with no retry
-- left, or cancelled): its unique key is kept `pykue_unique_for` ms more, or released at
-- once; under a retention rule ("<count>:<age ms>", either part empty) the job is indexed by
-- its finish time, and the oldest jobs of its type in that state beyond the rule are removed,
-- at most TRIM_MAX per call: no scan, and a backlog still shrinks by many per call.
local TRIM_MAX = 100

local function release_unique(base, id, ukey, ttl)
  if not ukey or ukey == "" then return end
  local key = unique_key(base, ukey)
  if redis.call("GET", key) ~= tostring(id) then return end
  local ms = tonumber(ttl) or 0
  if ms > 0 then redis.call("PEXPIRE", key, ms) else redis.call("DEL", key) end
end

-- Removes the jobs of `members` (zids: jobs that ended in the same ms, a batch, sort by id)
-- still in `state`; one that moved on (requeued by hand) is only dropped from the index.
-- `q`: {base, jobs, events, states}.
local function remove_finished(q, index, state, members)
  for _, member in ipairs(members) do
    local vid = zid_id(member)
    local h = redis.call("HMGET", job_key(q.base, vid), "state", "type")
    if h[1] == state and h[2] then remove_job(q, vid, h[2]) else redis.call("ZREM", index, member) end
  end
end

local function retain(q, id, jtype, state, keep, now)
  local count, age = string.match(keep, "^(%d*):(%d*)$")
  count, age = tonumber(count), tonumber(age)
  local index = finished_key(q.base, jtype, state)
  redis.call("ZADD", index, now, zid(id))
  if age then
    remove_finished(q, index, state, redis.call("ZRANGEBYSCORE", index, "-inf", "(" .. string.format("%d", now - age), "LIMIT", 0, TRIM_MAX))
  end
  if count then
    local over = math.min(redis.call("ZCARD", index) - count, TRIM_MAX)
    if over > 0 then remove_finished(q, index, state, redis.call("ZRANGE", index, 0, over - 1)) end
  end
end

-- `state`: "complete" or "failed". `q`: {base, jobs, events, states}. `h`, if the caller
-- read them already: {pykue_unique, pykue_unique_for, pykue_keep_<state>}.
local function finish_job(q, id, jtype, state, now, h)
  local keep_field = (state == "complete") and "pykue_keep_complete" or "pykue_keep_failed"
  h = h or redis.call("HMGET", job_key(q.base, id), "pykue_unique", "pykue_unique_for", keep_field)
  release_unique(q.base, id, h[1], h[2])
  if h[3] and h[3] ~= "" then retain(q, id, jtype, state, h[3], now) end
end
