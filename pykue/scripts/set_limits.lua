--[[ Set types' fleet-wide limits (read by every claim: includes/limits.lua). A type's field
  in the limits hash is "<n> <window ms> <concurrency> <flags> <declared n> <declared window>
  <declared concurrency>": first what holds now, then what its task declares (0: no such
  limit). flags: "r" and/or "c" when the rate or the concurrency was set at run time
  (queue.set_rate_limit, set_global_concurrency), which then wins over what tasks declare
  until reset; "-" for neither. A type with no limit at all has no field.
  KEYS[1] the limits hash
  ARGV[1] who sets them: "task" (a worker starting declares its tasks' limits), "queue" (a
       run-time setting), "reset" (back to what the task declares), then triples: type,
       rate ("<n> <window ms>", "0 0": none, "": unchanged), concurrency ("<n>", "0": none,
       "": unchanged)
  Returns the number of types changed.
]]
local origin, changed = ARGV[1], 0
for a = 2, #ARGV, 3 do
  local jtype, rate, concurrency = ARGV[a], ARGV[a + 1], ARGV[a + 2]
  local old = redis.call("HGET", KEYS[1], jtype) or "0 0 0 - 0 0 0"
  local n, w, c, flags, dn, dw, dc = string.match(old, "^(%d+) (%d+) (%d+) (%S+) (%d+) (%d+) (%d+)$")
  if not n then n, w, c, flags, dn, dw, dc = "0", "0", "0", "-", "0", "0", "0" end
  local rn, rw = string.match(rate, "^(%d+) (%d+)$")
  if origin == "task" then
    if rn then dn, dw = rn, rw end
    if concurrency ~= "" then dc = concurrency end
    if not string.find(flags, "r", 1, true) then n, w = dn, dw end
    if not string.find(flags, "c", 1, true) then c = dc end
  elseif origin == "queue" then
    if rn then n, w = rn, rw; flags = string.gsub(flags, "%-", "") .. (string.find(flags, "r", 1, true) and "" or "r") end
    if concurrency ~= "" then
      c = concurrency
      flags = string.gsub(flags, "%-", "") .. (string.find(flags, "c", 1, true) and "" or "c")
    end
  else
    n, w, c, flags = dn, dw, dc, "-"
  end
  if flags == "" then flags = "-" end
  local new = table.concat({n, w, c, flags, dn, dw, dc}, " ")
  if new ~= old then
    changed = changed + 1
    if new == "0 0 0 - 0 0 0" then redis.call("HDEL", KEYS[1], jtype) else redis.call("HSET", KEYS[1], jtype, new) end
  end
end
return changed
