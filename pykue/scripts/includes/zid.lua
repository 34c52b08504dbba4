-- Kue's zids, the members of its sorted sets: 42 <-> "02|42" (sorts like the number).
local function zid(id)
  local s = tostring(id)
  return string.format("%02d|%s", #s, s)
end
local function zid_id(member) return string.sub(member, string.find(member, "|", 1, true) + 1) end
