-- Every request a first execution: a fresh Idempotency-Key per request (thread id + counter).
local counter = 0
local tid = 0
local threads = {}
function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end
function init(args)
  tid = tonumber(wrk.thread:get("tid")) or 0
end
request = function()
  counter = counter + 1
  local headers = {}
  headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
  headers["Content-Type"] = "application/json"
  headers["Idempotency-Key"] = string.format("%s-%d-%d", os.getenv("RUN") or "run", tid, counter)
  return wrk.format("POST", os.getenv("PATH_URL"), headers, '{"amount":"0.01"}')
end
