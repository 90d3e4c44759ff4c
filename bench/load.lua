-- The wrk script of bench/api.py: requests read from a file, statuses counted, results as JSON.
--
-- Arguments after "--": requests file, threads, "cycle" or "once", most responses per thread,
-- token. Each line of the file is "METHOD PATH" or "METHOD PATH BODY" (BODY is JSON). Thread k
-- of n sends lines k, k + n, k + 2n, ...: in a loop ("cycle"), or each once ("once": when a
-- thread's lines run out it stops and reports itself exhausted).

local threads = {}

function setup(thread)
   thread:set("id", #threads)
   table.insert(threads, thread)
end

function init(args)
   local path, count, mode, limit, token = args[1], tonumber(args[2]), args[3], args[4], args[5]
   local headers = {["Authorization"] = "Bearer " .. token}
   local json = {["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json"}
   requests, position, cycle, most = {}, 0, mode == "cycle", tonumber(limit)
   statuses, responses, exhausted = {}, 0, 0
   local line_number = 0
   for line in io.lines(path) do
      if line_number % count == id then
         local method, target, body = line:match("^(%S+) (%S+) ?(.*)$")
         if body == "" then
            table.insert(requests, wrk.format(method, target, headers))
         else
            table.insert(requests, wrk.format(method, target, json, body))
         end
      end
      line_number = line_number + 1
   end
   spare = wrk.format("GET", "/", headers)
end

function request()
   position = position + 1
   if position > #requests then
      if not cycle then
         exhausted = 1
         wrk.thread:stop()
         return spare  -- never answered: the thread stops before reading it
      end
      position = 1
   end
   return requests[position]
end

function response(status)
   statuses[status] = (statuses[status] or 0) + 1
   responses = responses + 1
   if responses >= most then
      wrk.thread:stop()
   end
end

function done(summary, latency)
   local merged, exhausted_threads = {}, 0
   for _, thread in ipairs(threads) do
      for status, count in pairs(thread:get("statuses")) do
         merged[status] = (merged[status] or 0) + count
      end
      exhausted_threads = exhausted_threads + thread:get("exhausted")
   end
   local parts = {}
   for status, count in pairs(merged) do
      table.insert(parts, string.format('"%d": %d', status, count))
   end
   local errors = summary.errors
   io.write(string.format(
      '{"requests": %d, "duration_us": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, '
         .. '"max_us": %d, "socket_errors": %d, "timeouts": %d, "exhausted_threads": %d, '
         .. '"statuses": {%s}}\n',
      summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
      latency:percentile(99), latency.max, errors.connect + errors.read + errors.write,
      errors.timeout, exhausted_threads, table.concat(parts, ", ")))
end
