--[[ A worker's periodic upkeep, safe to run from many workers at once:
  1. renew this worker's lease (when asked);
  2. promote due delayed jobs (each at most once: its hash must still say delayed);
  3. list active jobs past their TTL that pykue workers hold, each to one caller only (its
     deadline moves 10 s on, until that caller fails it); one that no pykue worker holds
     (a Node Kue worker's, or set active by hand) is left to Kue's own TTL check for
     ADOPT_AFTER ms, then claimed for this worker and listed, to be failed as Kue would
     (or, if its hash is no longer active, dropped from the active indexes);
  4. find active jobs whose pykue worker's lease has expired (when asked), by the worker
     id inside each claim token: the first time a job stalls it is requeued here without
     spending an attempt (field pykue_stalls counts); later stalls are listed, to be failed;
  5. push missing wake-up tokens for the given types (when asked);
  6. return the paused types.
  ARGV[1] key base, ARGV[2] now (ms), ARGV[3] limit per step, ARGV[4] lease key or "",
  ARGV[5] lease ms, ARGV[6] "1" to look for stalled jobs, ARGV[7] this worker's id,
  then the types to reconcile
  Returns {promoted, {id, claim, ...} expired, {id, claim, ...} stalled, paused types,
           {id, claim, ...} active jobs claimed by this worker (when looking for stalled)}
]]
--- @include "keys"
--- @include "publish"
--- @include "place"
local base, now, limit = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local FREE_STALLS = 1
local ADOPT_AFTER = 5000  -- Node Kue fails its own expired jobs within about 2 s
local STALLED_LINE = "Stalled: the worker running this job stopped (no heartbeat); requeued"
if ARGV[4] ~= "" then redis.call("SET", ARGV[4], now, "PX", ARGV[5]) end

local promoted = 0
for _, member in ipairs(redis.call("ZRANGEBYSCORE", state_key(base, "delayed"), 0, now, "LIMIT", 0, limit)) do
  local id = string.sub(member, string.find(member, "|", 1, true) + 1)
  local jkey = job_key(base, id)
  local h = redis.call("HMGET", jkey, "type", "state", "priority")
  if h[2] == "delayed" and h[1] then  -- a typeless hash is what a stale Kue Job leaves of a removed one
    local priority = tonumber(h[3]) or 0
    redis.call("HSET", jkey, "state", "inactive", "updated_at", now)
    publish(base, id, "promotion", "")
    place(base, id, h[1], "delayed", "inactive", priority, priority)
    publish(base, id, "enqueue", "," .. cjson.encode(h[1]))
    promoted = promoted + 1
  else  -- its hash says otherwise: drop it from the delayed indexes, whatever wrote it there
    redis.call("ZREM", state_key(base, "delayed"), member)
    if h[1] then redis.call("ZREM", type_state_key(base, h[1], "delayed"), member) end
  end
end

-- Claims an active job no pykue worker holds for this worker, so that it can be failed.
local function adopt(jkey)
  local h = redis.call("HMGET", jkey, "state", "type", "attempts")
  if h[1] ~= "active" or not h[2] or ARGV[7] == "" then return nil end
  local claim = claim_token(ARGV[7], h[3], now)
  redis.call("HSET", jkey, "pykue_claim", claim, "workerId", ARGV[7] .. ":" .. h[2])
  return claim
end

-- An id in the active indexes whose hash says otherwise, or is gone (a stale Kue Job's write,
-- Kue issue #944): it would count as active for ever.
local function drop_if_not_active(jkey, member)
  local h = redis.call("HMGET", jkey, "state", "type")
  if h[1] == "active" then return end
  redis.call("ZREM", state_key(base, "active"), member)
  if h[2] then redis.call("ZREM", type_state_key(base, h[2], "active"), member) end
end

local active = state_key(base, "active")
local expired = {}
local due = redis.call("ZRANGEBYSCORE", active, 100000, now, "WITHSCORES")
for d = 1, #due, 2 do
  if #expired >= 2 * limit then break end
  local member = due[d]
  local id = string.sub(member, string.find(member, "|", 1, true) + 1)
  local jkey = job_key(base, id)
  local claim = held_claim(jkey)
  if not claim and tonumber(due[d + 1]) <= now - ADOPT_AFTER then
    claim = adopt(jkey)
    if not claim then drop_if_not_active(jkey, member) end
  end
  if claim then
    -- taken by this tick: other workers' ticks skip it for 10 s while this worker fails it
    redis.call("ZADD", active, now + 10000, member)
    expired[#expired + 1] = id
    expired[#expired + 1] = claim
  end
end

local stalled, mine = {}, {}
if ARGV[6] == "1" then
  local alive = {[ARGV[7]] = true}
  for _, member in ipairs(redis.call("ZRANGE", active, 0, -1)) do
    local id = string.sub(member, string.find(member, "|", 1, true) + 1)
    local claim = held_claim(job_key(base, id))
    local wid = claim and claim_worker(claim)
    if wid == ARGV[7] then
      mine[#mine + 1] = id
      mine[#mine + 1] = claim
    elseif wid then
      if alive[wid] == nil then alive[wid] = redis.call("EXISTS", worker_key(base, wid)) == 1 end
      if not alive[wid] then
        local jkey = job_key(base, id)
        if redis.call("HINCRBY", jkey, "pykue_stalls", 1) <= FREE_STALLS then
          -- at-least-once: its worker died, so it runs again without spending an attempt
          local h = redis.call("HMGET", jkey, "type", "priority")
          local priority = tonumber(h[2]) or 0
          redis.call("HSET", jkey, "state", "inactive", "updated_at", now)
          redis.call("HDEL", jkey, "pykue_claim")
          redis.call("RPUSH", log_key(base, id), STALLED_LINE)
          place(base, id, h[1], "active", "inactive", priority, priority)
          publish(base, id, "enqueue", "," .. cjson.encode(h[1]))
        else  -- it stalled before: perhaps it kills its worker, so this one spends an attempt
          stalled[#stalled + 1] = id
          stalled[#stalled + 1] = claim
        end
      end
    end
  end
end

for a = 8, #ARGV do
  local jtype = ARGV[a]
  local missing = redis.call("ZCARD", type_state_key(base, jtype, "inactive")) - redis.call("LLEN", tokens_key(base, jtype))
  for _ = 1, math.min(missing, limit) do redis.call("LPUSH", tokens_key(base, jtype), 1) end
end

return {promoted, expired, stalled, redis.call("SMEMBERS", paused_key(base)), mine}
