-- `make bench` helper: wrk posts the body in WRK_BODY with the headers in WRK_HEADERS
-- ("Name: value" per line), and counts the answers whose status is not WRK_STATUS (default 200).
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  wrk.method = "POST"
  wrk.body = os.getenv("WRK_BODY") or ""
  for line in (os.getenv("WRK_HEADERS") or ""):gmatch("[^\n]+") do
    local k, v = line:match("^([^:]+):%s*(.*)$")
    if k then wrk.headers[k] = v end
  end
  want = tonumber(os.getenv("WRK_STATUS") or "200")
  wrong = 0
  req = wrk.format()
end

function request()
  return req
end

function response(status, headers, body)
  if status ~= want then wrong = wrong + 1 end
end

function done(summary, latency, requests)
  local n = 0
  for _, t in ipairs(threads) do n = n + t:get("wrong") end
  io.write(string.format("WRONG_STATUS %d\n", n))
end
