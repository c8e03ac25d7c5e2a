-- Signed GETs for wrk: cycles through a handful of pre-signed request targets.
--
-- Usage: wrk ... -H "X-MBX-APIKEY: <key>" -s bench/wrk/cycle.lua <base url> -- <targets file>
-- The file holds one "path?query&signature=..." per line. The replay guard lets a signed GET be
-- repeated within its recvWindow, so cycling a few of them is a fair load; bench/http.py signs
-- them again before each scenario. No response hook: wrk counts non-2xx responses itself.

local requests = {}
local count = 0
local next_index = 0

function init(args)
   for line in io.lines(args[1]) do
      if line ~= "" then
         count = count + 1
         requests[count] = wrk.format("GET", line)
      end
   end
   if count == 0 then
      error("no request targets in " .. args[1])
   end
end

function request()
   next_index = next_index % count + 1
   return requests[next_index]
end
