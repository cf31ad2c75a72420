#!/usr/bin/env python3
"""Steady writers: RATE `PATCH`es a second in all (four connections, each its own plots)
of plots' commercial stage for SECONDS seconds against a server on PostGIS, for the
readers' latency beside writes. Prints what was done, refused and failed (a reset or a
5xx is a failure).

Usage: writer.py BASE TOKEN RATE SECONDS
"""
import http.client
import json
import random
import sys
import threading
import time
import urllib.parse

STAGES = ["en vente", "non commercialisé", "réservé par option de réservation"]


def worker(base, token, rate, seconds, ids, seed, out):
    u = urllib.parse.urlparse(base)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)

    def request(method, path, body=None, headers=None):
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()

    rng = random.Random(seed)
    etags, lat = {}, []
    done = refused = failed = 0
    start = time.perf_counter()
    k = 0
    while True:
        due = start + k / rate
        if due - start >= seconds:
            break
        now = time.perf_counter()
        if due > now:
            time.sleep(due - now)
        k += 1
        fid = rng.choice(ids)
        try:
            if fid not in etags:
                st, h, _ = request("GET", f"/ogc/collections/terrains/items/{fid}")
                etags[fid] = h["etag"]
            t0 = time.perf_counter()
            st, h, body = request(
                "PATCH",
                f"/ogc/collections/terrains/items/{fid}",
                json.dumps({"properties": {"terr_stade_comm": rng.choice(STAGES)}}),
                {"Authorization": f"Bearer {token}", "If-Match": etags[fid],
                 "Content-Type": "application/merge-patch+json"},
            )
            lat.append((time.perf_counter() - t0) * 1e3)
            if st == 200:
                etags[fid] = h["etag"]
                done += 1
            elif 400 <= st < 500:
                refused += 1
                etags.pop(fid, None)
            else:
                failed += 1
                etags.pop(fid, None)
                print(f"PATCH {fid}: {st} {body[:160]!r}", file=sys.stderr)
        except Exception as e:  # a reset or a timeout is what this run looks for
            failed += 1
            print(f"PATCH {fid}: {e!r}", file=sys.stderr)
            conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    out.append((done, refused, failed, lat, time.perf_counter() - start))


def main():
    base, token, rate, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
    u = urllib.parse.urlparse(base)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    conn.request("GET", "/ogc/collections/terrains/items?limit=1")
    matched = json.loads(conn.getresponse().read())["numberMatched"]
    # 4,000 plots from the 5,000th, or from the start of a smaller dataset.
    offset = min(5000, max(0, matched - 4000))
    conn.request("GET", f"/ogc/collections/terrains/items?limit=4000&offset={offset}")
    ids = [f["id"] for f in json.loads(conn.getresponse().read())["features"]]
    n = 4
    out = []
    threads = [
        threading.Thread(target=worker, args=(base, token, rate / n, seconds, ids[i::n], i, out))
        for i in range(n)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    done = sum(o[0] for o in out)
    refused = sum(o[1] for o in out)
    failed = sum(o[2] for o in out)
    lat = sorted(x for o in out for x in o[3])
    elapsed = max(o[4] for o in out)
    q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] if lat else 0
    print(f"writers: {done} PATCH in {elapsed:.0f} s ({done / elapsed:.1f}/s), {refused} refused, "
          f"{failed} failed; PATCH p50 {q(0.5):.1f} ms, p90 {q(0.9):.1f} ms, p99 {q(0.99):.1f} ms, "
          f"max {lat[-1] if lat else 0:.1f} ms; {sum(x > 100 for x in lat)} over 100 ms")


if __name__ == "__main__":
    main()
