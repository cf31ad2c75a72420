#!/usr/bin/env python3
"""Edit latency against a running server on PostGIS: N `PATCH`es of plots (state flips,
geometry moved by a metre every tenth edit), each checked by the next `GET` (the change is
visible at once); prints p50/p99 of the PATCH round trip and the server's RSS before and
after. Plots are taken from the items pages; ETags tracked from the responses.

Usage: edits.py BASE TOKEN COUNT SERVER_PID [SEED]
"""
import http.client
import json
import random
import sys
import time
import urllib.parse


def rss(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) * 1024
    return 0


def main():
    base, token, count, pid = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    rng = random.Random(int(sys.argv[5]) if len(sys.argv) > 5 else 1)
    u = urllib.parse.urlparse(base)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)

    def request(method, path, body=None, headers=None):
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()

    # Plots spread over the country: every 97th of the first pages.
    st, _, body = request("GET", "/ogc/collections/terrains/items?limit=10000")
    feats = json.loads(body)["features"]
    plots = [f for i, f in enumerate(feats) if i % 7 == 0]
    etags = {}
    # The server's memory once the list above was served (it fills the feature cache).
    before = rss(pid)
    lat = []
    errors = 0
    refused = 0
    for k in range(count):
        f = plots[rng.randrange(len(plots))]
        fid = f["id"]
        if fid not in etags:
            st, h, _ = request("GET", f"/ogc/collections/terrains/items/{fid}")
            etags[fid] = h["etag"]
        state = rng.choice(["vacant", "occupé", "friche", "inoccupé"])
        patch = {"properties": {"terr_etat_occup": state}}
        if k % 10 == 0:
            # The outline drawn in by a thousandth towards its first vertex: the plot
            # stays inside its site and its EPCI.
            ring = f["geometry"]["coordinates"][0]
            x0, y0 = ring[0]
            ring = [[x0 + (x - x0) * 0.999, y0 + (y - y0) * 0.999] for x, y in ring]
            f["geometry"] = {"type": "Polygon", "coordinates": [ring]}
            patch["geometry"] = f["geometry"]
        t0 = time.perf_counter()
        st, h, body = request(
            "PATCH",
            f"/ogc/collections/terrains/items/{fid}",
            json.dumps(patch),
            {
                "Authorization": f"Bearer {token}",
                "If-Match": etags[fid],
                "Content-Type": "application/merge-patch+json",
            },
        )
        lat.append((time.perf_counter() - t0) * 1e3)
        if 400 <= st < 500:
            # A rule of the standard or of the territory (a synthetic plot lying partly
            # outside its EPCI may not be redrawn): refused with its reason, not an error.
            refused += 1
            plots = [p for p in plots if p["id"] != fid]
            etags.pop(fid, None)
            continue
        if st != 200:
            errors += 1
            etags.pop(fid, None)
            print(f"PATCH {fid}: {st} {body[:200]!r}", file=sys.stderr)
            continue
        etags[fid] = h["etag"]
        st, h, body = request("GET", f"/ogc/collections/terrains/items/{fid}")
        seen = json.loads(body)["properties"]["terr_etat_occup"]
        if seen != state or h["etag"] != etags[fid]:
            errors += 1
            print(f"GET {fid} after PATCH: {seen} {h['ETag']}", file=sys.stderr)
    after = rss(pid)
    lat.sort()
    q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))]
    print(
        f"{count} PATCH: p50 {q(0.50):.1f} ms, p90 {q(0.90):.1f} ms, p99 {q(0.99):.1f} ms, "
        f"max {lat[-1]:.1f} ms; {refused} refused (4xx), {errors} errors; RSS {before / 2**20:.0f} MB -> "
        f"{after / 2**20:.0f} MB ({100 * (after - before) / before:+.1f} %)"
    )


if __name__ == "__main__":
    main()
