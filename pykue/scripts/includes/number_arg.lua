-- A number as a command argument. Redis 7.0 writes a Lua number with "%.17g", a
-- multi-precision printf (about 2,000 instructions each, 16 per job in a worker's cycle),
-- and string.format costs about as much; the small whole numbers that most arguments are
-- (a counter's 1, a priority, a batch size, a duration in ms) are written once and looked up
-- after, for as long as a Functions library lives (under EVALSHA each call starts afresh).
local NUMBER_TEXT = {}
local function number_arg(n)
  local text = NUMBER_TEXT[n]
  if text then return text end
  if n >= 0 and n < 4096 and n % 1 == 0 then
    text = string.format("%d", n)
    NUMBER_TEXT[n] = text
    return text
  end
  return n
end
