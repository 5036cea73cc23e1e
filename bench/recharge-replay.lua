-- Every request a replay: one Idempotency-Key, already completed before the run starts.
request = function()
  local headers = {}
  headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
  headers["Content-Type"] = "application/json"
  headers["Idempotency-Key"] = os.getenv("KEY")
  return wrk.format("POST", os.getenv("PATH_URL"), headers, '{"amount":"0.01"}')
end
