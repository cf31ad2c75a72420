#!/usr/bin/env python3
"""The request lists of bench/load.lua, from a running server: z13-14 plot tiles over the
sites, the EPCIs' SIRENs, a vertex of each site (files `tiles`, `sirens`, `points` in WORK).

Usage: lists.py BASE WORK
"""
import json, math, sys, urllib.request
base, work = sys.argv[1], sys.argv[2]
get = lambda p: json.load(urllib.request.urlopen(base + p))
sites = get("/ogc/collections/sites/items?limit=10000")["features"]
points, tiles = [], set()
for f in sites:
    c = f["geometry"]["coordinates"]
    while isinstance(c[0][0], list):
        c = c[0]
    lon, lat = c[0]
    points.append(f"{lon} {lat}")
    for z in (13, 14):
        n = 2 ** z
        x = int((lon + 180) / 360 * n)
        y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
        tiles.add(f"/tiles/terrains/{z}/{x}/{y}")
open(f"{work}/tiles", "w").write("\n".join(sorted(tiles)) + "\n")
open(f"{work}/points", "w").write("\n".join(points) + "\n")
epci = get("/ogc/collections/epci/items?limit=1000")["features"]
open(f"{work}/sirens", "w").write("\n".join(f["id"] for f in epci) + "\n")
print(f"    {len(tiles)} tiles, {len(points)} sites, {len(epci)} EPCIs")
