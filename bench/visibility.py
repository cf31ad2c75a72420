#!/usr/bin/env python3
"""Visibility lag of writes across replicas: N PATCHes of one plot through BASE (nginx),
each then read from every replica directly until all serve its ETag. Prints p50, p99 and
max of the time from the write's answer to the last replica serving it.

Usage: visibility.py BASE TOKEN N REPLICA_BASE...
"""
import http.client
import json
import sys
import time
import urllib.parse


def connection(base):
    u = urllib.parse.urlparse(base)
    return http.client.HTTPConnection(u.hostname, u.port, timeout=30)


def main():
    base, token, n, replicas = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
    lb = connection(base)
    reps = [connection(r) for r in replicas]

    def etag(conn, path):
        conn.request("GET", path)
        r = conn.getresponse()
        r.read()
        return r.getheader("ETag")

    lb.request("GET", "/ogc/collections/terrains/items?limit=1")
    plot = json.loads(lb.getresponse().read())["features"][0]["id"]
    path = f"/ogc/collections/terrains/items/{plot}"
    current = etag(lb, path)
    lags, failed = [], 0
    for k in range(n):
        body = json.dumps({"properties": {"terr_refcad": f"visibility-{k}"}})
        lb.request("PATCH", path, body, {"Authorization": f"Bearer {token}", "If-Match": current,
                                         "Content-Type": "application/merge-patch+json"})
        r = lb.getresponse()
        r.read()
        if r.status != 200:
            failed += 1
            current = etag(lb, path)
            continue
        current = r.getheader("ETag")
        t0 = time.perf_counter()
        pending = list(reps)
        while pending:
            pending = [c for c in pending if etag(c, path) != current]
            if time.perf_counter() - t0 > 10:
                print(f"write {k} not on every replica after 10 s", file=sys.stderr)
                sys.exit(1)
        lags.append((time.perf_counter() - t0) * 1e3)
    lags.sort()
    q = lambda p: lags[min(len(lags) - 1, int(p * len(lags)))] if lags else 0
    print(f"visibility: {len(lags)} writes through nginx on {len(reps)} replicas, {failed} failed; "
          f"every replica serving each after p50 {q(0.5):.1f} ms, p99 {q(0.99):.1f} ms, "
          f"max {lags[-1] if lags else 0:.1f} ms")


if __name__ == "__main__":
    main()
