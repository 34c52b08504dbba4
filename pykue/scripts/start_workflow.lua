--[[ Start a workflow (pykue/canvas.py: a chain, group or chord): reserve one job id per step
  in one INCRBY, create the steps that wait for nothing as ordinary Kue jobs, and store every
  step's links (and the arguments of those still to come) in the flow's hash
  (includes/flow.lua). The later steps are created by complete_jobs/fail_job (workflow.lua).
  KEYS[1] key prefix ("q:"), KEYS[2] the id counter, KEYS[3] the job types set, KEYS[4] all
  jobs set, KEYS[5] inactive set, KEYS[6] delayed set, KEYS[7] events channel
  Derived from the prefix: the flow's hash (named by its first id, only known here), the
  first steps' hashes and search entries, their types' sets and token lists, the search
  words' sets.
  ARGV[1] now (ms), ARGV[2] n steps, ARGV[3] its shape (JSON, for handles: the steps whose
  results it returns), then per step:
    its links (m:s JSON), its number of parents, then for a step with none its job's
    arguments as save_jobs.lua takes them (type, data, ..., n_words, word, ...), else its type.
  Returns the flow's id: its first step's job id.
]]
--- @include "workflow"
local base, now_text = KEYS[1], ARGV[1]
local now, n = tonumber(now_text), tonumber(ARGV[2])
local first = redis.call("INCRBY", KEYS[2], n) - n + 1
local fid = string.format("%d", first)
local fkey = flow_key(base, fid)
local state_sets = {inactive = KEYS[5], delayed = KEYS[6]}
local tails, types = {}, {}
local fields = {"n", n, "live", n, "shape", ARGV[3]}
local function field(name, value)
  fields[#fields + 1] = name
  fields[#fields + 1] = value
  if #fields >= 1000 then redis.call("HSET", fkey, unpack(fields)); fields = {} end
end
local i = 4
for step = 1, n do
  field("m:" .. step, ARGV[i])
  local parents = tonumber(ARGV[i + 1])
  i = i + 2
  local jtype = ARGV[i]
  types[jtype] = true
  if parents == 0 then
    local id = step_id(fid, step)
    local member, state, priority, delay, after = write_job(base, KEYS[7], ARGV, i, id, now_text, tails)
    redis.call("HSET", job_key(base, id), "pykue_flow", fid .. ":" .. step)
    index_step(base, KEYS[4], state_sets[state], jtype, member, state, priority, delay, now)
    field("s:" .. step, "c")
    i = after
  else
    field("w:" .. step, parents)
    i = i + 1
  end
end
if #fields > 0 then redis.call("HSET", fkey, unpack(fields)) end
for jtype in pairs(types) do redis.call("SADD", KEYS[3], jtype) end
return first
