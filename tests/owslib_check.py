"""OWSLib (the OGC client library for Python) against a running ecofoncier.

Usage: python tests/owslib_check.py http://127.0.0.1:PORT/ogc EXPECTED_JSON
EXPECTED_JSON maps collection ids to their feature counts, and gives a CRS84 bbox with the
number of plots it holds. Prints what it checked; exits non-zero on any mismatch.
"""

import json
import sys

from owslib.ogcapi.features import Features


def main():
    url, expected = sys.argv[1], json.loads(sys.argv[2])
    api = Features(url)
    conformance = api.conformance()["conformsTo"]
    assert any(c.endswith("/conf/core") for c in conformance), conformance
    ids = [c["id"] for c in api.collections()["collections"]]
    assert sorted(ids) == sorted(expected["counts"]), ids
    for cid in ids:
        meta = api.collection(cid)
        assert meta["id"] == cid
        page = api.collection_items(cid, limit=1)
        assert page["numberMatched"] == expected["counts"][cid], (cid, page["numberMatched"])
    bbox = expected["bbox"]
    items = api.collection_items("terrains", bbox=bbox, limit=10000)
    n = len(items["features"])
    assert items["numberMatched"] == expected["bbox_count"] == n, (items["numberMatched"], n)
    for f in items["features"]:
        assert "terr_acquereur" not in f["properties"]
    print(f"owslib: {len(ids)} collections, bbox {bbox} -> {n} plots")


if __name__ == "__main__":
    main()
