-- Signed POSTs for wrk: sends each pre-signed form body once.
--
-- Usage: wrk ... -H "X-MBX-APIKEY: <key>" -H "Content-Type: application/x-www-form-urlencoded"
--            -s bench/wrk/once.lua <base url> -- <bodies prefix> <path>
-- The replay guard refuses a state-changing request it has seen before, so every order needs its
-- own signature: bench/http.py writes one body per line (a distinct newClientOrderId, one recent
-- timestamp, recvWindow=60000), in one file per wrk thread ("<prefix>.1", "<prefix>.2", ...), so
-- no two threads send the same body. Bodies are read as they are sent, so start-up spends nothing
-- of the window (wrk calls request() once at start-up to check the script: that body is never
-- sent). Once they run out the last one is sent again: the server refuses it as a replay, and
-- done() reports those requests as "exhausted". done() prints one line tagged "keyplane-bench"
-- with the count of each status and the first refusal (status and body) for the report.

local bodies = nil
local path = nil
local last = nil

-- Globals of the thread's Lua state, because done() reads them through thread:get.
exhausted = 0
statuses = {}
first_error = ""

local threads = {}

function setup(thread)
   table.insert(threads, thread)
   thread:set("part", #threads)
end

function init(args)
   bodies = assert(io.open(args[1] .. "." .. part, "r"))
   path = args[2]
end

function request()
   local body = bodies:read("*l")
   if body == nil or body == "" then
      exhausted = exhausted + 1
      return last
   end
   last = wrk.format("POST", path, nil, body)
   return last
end

function response(status, headers, body)
   statuses[status] = (statuses[status] or 0) + 1
   if status >= 300 and first_error == "" then
      first_error = status .. " " .. string.sub(body or "", 1, 200)
   end
end

local function json_string(text)
   return '"' .. string.gsub(text, '[%c"\\]', function(c)
      return string.format("\\u%04x", string.byte(c))
   end) .. '"'
end

function done(summary, latency, requests_done)
   local total_exhausted = 0
   local merged = {}
   local first = ""
   for _, thread in ipairs(threads) do
      total_exhausted = total_exhausted + thread:get("exhausted")
      for status, n in pairs(thread:get("statuses")) do
         merged[status] = (merged[status] or 0) + n
      end
      if first == "" then
         first = thread:get("first_error")
      end
   end
   local parts = {}
   for status, n in pairs(merged) do
      table.insert(parts, string.format('"%d":%d', status, n))
   end
   io.write(string.format('keyplane-bench {"exhausted":%d,"statuses":{%s},"first_error":%s}\n',
      total_exhausted, table.concat(parts, ","), json_string(first)))
end
