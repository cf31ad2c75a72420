-- The mixed read workload of bench/load.sh: each request picks, in these shares, a page of
-- plots in a bbox (items), a vector tile of the plots (z13-z14 over the region), an EPCI's
-- indicators (metrics) or the sobriety check of a small square beside a site (a POST). wrk counts
-- non-2xx/3xx answers and socket errors (connect, read, write, timeout: resets among them).
local tiles, sirens, points = {}, {}, {}

function init(args)
  -- args: files of tile paths, of SIRENs, and of points (`lon lat`, a vertex of a site)
  for l in io.lines(args[1]) do tiles[#tiles + 1] = l end
  for l in io.lines(args[2]) do sirens[#sirens + 1] = l end
  for l in io.lines(args[3]) do
    local lon, lat = l:match("([^ ]+) ([^ ]+)")
    points[#points + 1] = {tonumber(lon), tonumber(lat)}
  end
  math.randomseed(os.time() + math.floor(os.clock() * 1e6))
end

local function items()
  local lon = 1.6 + math.random() * 2.4
  local lat = 49.2 + math.random() * 1.6
  return wrk.format("GET", string.format(
    "/ogc/collections/terrains/items?bbox=%.4f,%.4f,%.4f,%.4f&limit=100",
    lon, lat, lon + 0.08, lat + 0.05))
end

local function tile() return wrk.format("GET", tiles[math.random(#tiles)]) end

local function metrics()
  return wrk.format("GET", "/api/v1/indicators/epci/" .. sirens[math.random(#sirens)])
end

local function sobriety()
  -- a 3 ha square beside a site
  local p = points[math.random(#points)]
  local lon, lat = p[1], p[2]
  local d = 0.002
  local body = string.format(
    '{"geometry":{"type":"Polygon","coordinates":[[[%f,%f],[%f,%f],[%f,%f],[%f,%f],[%f,%f]]]},"emplois":50}',
    lon, lat, lon + d, lat, lon + d, lat + d * 0.66, lon, lat + d * 0.66, lon, lat)
  return wrk.format("POST", "/api/v1/proposals/check",
    {["Content-Type"] = "application/json"}, body)
end

function request()
  local r = math.random()
  if r < 0.35 then return tile()
  elseif r < 0.65 then return items()
  elseif r < 0.85 then return metrics()
  else return sobriety() end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "requests %d in %.1f s: %.0f req/s; latency p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1e3, latency:percentile(99) / 1e3, latency.max / 1e3))
  io.write(string.format(
    "errors: connect %d, read %d, write %d, timeout %d, status >= 400: %d\n",
    e.connect, e.read, e.write, e.timeout, e.status))
end
