--- @include "keys"
--- @include "zid"
--- @include "claims"
local ADOPT_AFTER = 5000  -- Node Kue fails its own expired jobs within about 2 s

-- Claims an active job no pykue worker holds for worker `wid`, so that it can be failed.
local function adopt(jkey, wid, now)
  local h = redis.call("HMGET", jkey, "state", "type", "attempts")
  if h[1] ~= "active" or not h[2] or wid == "" then return nil end
  local claim = claim_token(wid, h[3], now)
  redis.call("HSET", jkey, "pykue_claim", claim, "workerId", wid .. ":" .. h[2])
  return claim
end

-- An id in the active indexes whose hash says otherwise, or is gone (a stale Kue Job's write,
-- Kue issue #944): it would count as active for ever.
local function drop_if_not_active(q, jkey, member)
  local h = redis.call("HMGET", jkey, "state", "type")
  if h[1] == "active" then return end
  redis.call("ZREM", q.states.active, member)
  if h[2] then redis.call("ZREM", type_state_key(q.base, h[2], "active"), member) end
end

-- Active jobs past their TTL that pykue workers hold, up to `limit`, each listed to one caller
-- only (its deadline moves 10 s on, until that caller fails it); one that no pykue worker holds
-- (a Node Kue worker's, or set active by hand) is left to Kue's own TTL check for ADOPT_AFTER
-- ms, then claimed for worker `wid` and listed, to be failed as Kue would (or, if its hash is
-- no longer active, dropped from the active indexes). Returns {id, claim, ...}.
-- `q`: {base, states}.
local function expire_ttl(q, now, limit, wid)
  local expired = {}
  local due = redis.call("ZRANGEBYSCORE", q.states.active, 100000, now, "WITHSCORES")
  for d = 1, #due, 2 do
    if #expired >= 2 * limit then break end
    local member = due[d]
    local jkey = job_key(q.base, zid_id(member))
    local claim = held_claim(jkey)
    if not claim and tonumber(due[d + 1]) <= now - ADOPT_AFTER then
      claim = adopt(jkey, wid, now)
      if not claim then drop_if_not_active(q, jkey, member) end
    end
    if claim then
      -- taken by this tick: other workers' ticks skip it for 10 s while this worker fails it
      redis.call("ZADD", q.states.active, now + 10000, member)
      expired[#expired + 1] = zid_id(member)
      expired[#expired + 1] = claim
    end
  end
  return expired
end
