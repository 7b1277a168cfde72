-- wrk script: spread requests over N workers (each its own tenant) on the path form.
--   wrk -t2 -c64 -d10s -s scripts/load/tenants.lua http://127.0.0.1:8080 -- 100 hello
-- args: [tenants (default 100)] [worker-name prefix (default "w")]
local tenants, prefix = 100, "w"
local counter = 0

function init(args)
  tenants = tonumber(args[1]) or tenants
  prefix = args[2] or prefix
end

function request()
  counter = counter + 1
  return wrk.format("GET", "/w/" .. prefix .. (counter % tenants) .. "/")
end

local codes = {}
function response(status, headers, body)
  codes[status] = (codes[status] or 0) + 1
end

function done(summary, latency, requests)
  io.write(string.format("p50 %.2f ms, p99 %.2f ms, non-2xx/3xx %d\n",
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, summary.errors.status))
end
