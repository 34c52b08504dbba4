-- Kue's event message: {"id":<id>,"event":"<name>","args":["<name>",...]}.
-- `tail` is the JSON of the remaining args with a leading comma (",\"email\"") or "".
local function publish(base, id, event, tail)
  redis.call("PUBLISH", base .. "events",
    '{"id":' .. id .. ',"event":"' .. event .. '","args":["' .. event .. '"' .. (tail or "") .. ']}')
end
