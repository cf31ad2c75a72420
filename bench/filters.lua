-- A new CQL2 filter each request, for bench/ogc_items.sh: the attribute-only filter of the
-- "scan" run with its upper surface drawn at random (to the hundredth of a hectare between
-- 2 and 102 ha), so that nearly every request reads every plot rather than a kept selection.
function init(args)
  math.randomseed(os.time() + math.floor(os.clock() * 1e6))
end

local function encode(s)
  return (s:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

function request()
  local top = 2 + math.random(0, 10000) / 100
  local f = string.format(
    "terr_etat_occup = 'vacant' AND terr_surf_brute BETWEEN 0.4 AND %.2f OR terr_stade_comm = 'en cours'",
    top)
  return wrk.format("GET", "/ogc/collections/terrains/items?limit=10000&filter=" .. encode(f))
end
