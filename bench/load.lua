-- wrk script of bench/load.py: the mixed API load, and a tally of what came back.
-- Each request takes the next endpoint of the mix (and the next symbol once per turn), with times
-- from now: /health, /status/ingestion, /symbols, /trades (last hour, limit 100), /candles 1m over
-- the last hour and 1h over the last 24 h, /metrics. Statuses and the `detail` of every problem
-- answer are counted per thread; done() merges them and prints one line of JSON after MDP-WRK.
-- Usage: MDP_DEADLINE_US=2500000 wrk ... -s load.lua URL

local symbols = { "AAPL", "AMZN", "GOOGL", "MSFT", "TSLA" }
local threads = {}

local function int(n)
   return string.format("%d", n)
end

local function ms(seconds_from_now)
   return string.format("%d", (os.time() + seconds_from_now) * 1000)
end

local mix = {
   function() return "/health" end,
   function() return "/status/ingestion" end,
   function() return "/symbols" end,
   function(s) return "/trades?symbol=" .. s .. "&start=" .. ms(-3600) .. "&end=" .. ms(60) .. "&limit=100" end,
   function(s) return "/candles?symbol=" .. s .. "&interval=1m&start=" .. ms(-3600) .. "&end=" .. ms(60) end,
   function(s) return "/candles?symbol=" .. s .. "&interval=1h&start=" .. ms(-86400) .. "&end=" .. ms(3600) end,
   function() return "/metrics" end,
}

function setup(thread)
   table.insert(threads, thread)
end

function init(args)
   sent = 0
   statuses = {}
   details = {}
end

function request()
   local symbol = symbols[math.floor(sent / #mix) % #symbols + 1]
   local path = mix[sent % #mix + 1](symbol)
   sent = sent + 1
   return wrk.format("GET", path)
end

function response(status, headers, body)
   statuses[status] = (statuses[status] or 0) + 1
   if status >= 400 then
      local detail = string.match(body or "", '"detail":%s*"(.-[^\\])"') or ""
      local key = status .. " " .. string.sub(detail, 1, 120)
      details[key] = (details[key] or 0) + 1
   end
end

local function quoted(text)
   return '"' .. string.gsub(string.gsub(text, "\\", "\\\\"), '"', '\\"') .. '"'
end

local function object(map)
   local parts = {}
   for key, value in pairs(map) do
      table.insert(parts, quoted(tostring(key)) .. ":" .. int(value))
   end
   return "{" .. table.concat(parts, ",") .. "}"
end

local function merged(name)
   local all = {}
   for _, thread in ipairs(threads) do
      for key, value in pairs(thread:get(name) or {}) do
         all[key] = (all[key] or 0) + value
      end
   end
   return all
end

-- Answers slower than the deadline: the rank of the last one within it, found by bisection on
-- percentile() (which returns the value at rank round(p / 100 * count + 0.5)).
local function over(latency, count, limit_us)
   if count == 0 or latency.max <= limit_us then return 0 end
   local lo, hi = 0, count
   while lo < hi do
      local mid = math.floor((lo + hi + 1) / 2)
      if latency:percentile((mid - 0.25) * 100 / count) <= limit_us then lo = mid else hi = mid - 1 end
   end
   return count - lo
end

function done(summary, latency, requests)
   local e = summary.errors
   -- Answers after wrk's --timeout count as timeouts and stay out of the histogram.
   local measured = summary.requests - e.timeout
   local deadline_us = tonumber(os.getenv("MDP_DEADLINE_US") or "2500000")
   io.write("MDP-WRK {",
      '"requests":', int(summary.requests), ',"duration_us":', int(summary.duration),
      ',"errors":{"connect":', int(e.connect), ',"read":', int(e.read), ',"write":', int(e.write),
      ',"timeout":', int(e.timeout), "}",
      ',"p50_us":', int(latency:percentile(50)), ',"p99_us":', int(latency:percentile(99)),
      ',"max_us":', int(latency.max),
      ',"over_deadline":', int(over(latency, measured, deadline_us) + e.timeout),
      ',"statuses":', object(merged("statuses")),
      ',"details":', object(merged("details")),
      "}\n")
end
