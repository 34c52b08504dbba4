-- The keys a script derives from the queue's key prefix ("q:", passed as KEYS[1]): those of
-- jobs it finds or creates itself and of their types, whose names are only known inside the
-- script. Every other key arrives in KEYS, named by pykue/keys.py, the Python twin of these
-- functions (tests/integration/test_lua_keys.py checks they agree).
local function job_key(base, id) return base .. "job:" .. id end
local function log_key(base, id) return base .. "job:" .. id .. ":log" end
local function type_state_key(base, jtype, state) return base .. "jobs:" .. jtype .. ":" .. state end
local function tokens_key(base, jtype) return base .. jtype .. ":jobs" end
local function search_object_key(base, id) return base .. "search:object:" .. id end
local function search_word_key(base, word) return base .. "search:word:" .. word end
local function state_key(base, state) return base .. "jobs:" .. state end  -- see state_keys
local function type_stats_key(base, jtype) return base .. "pykue:stats:" .. jtype end
local function worker_key(base, wid) return base .. "pykue:worker:" .. wid end
local function unique_key(base, key) return base .. "pykue:unique:" .. key end
local function cancel_key(base, wid) return base .. "pykue:cancel:" .. wid end
local function finished_key(base, jtype, state) return base .. "pykue:finished:" .. jtype .. ":" .. state end
local STATES = {"inactive", "active", "complete", "failed", "delayed"}
-- The five global state sets, passed in KEYS from `first` on in STATES order, by state name
-- (state_key names them only for a state outside Kue's five, written into a hash by hand).
local function state_keys(first)
  local keys = {}
  for i, state in ipairs(STATES) do keys[state] = KEYS[first + i - 1] end
  return keys
end
-- pykue's fleet-wide limits: the hash of every limited type, and one type's rate window.
local function limits_key(base) return base .. "pykue:limits" end
local function rate_key(base, jtype) return base .. "pykue:rate:" .. jtype end
local function all_jobs_key(base) return base .. "jobs" end
local function flow_key(base, fid) return base .. "pykue:flow:" .. fid end
