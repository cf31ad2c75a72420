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
    # A CQL2 Text filter, sent by OWSLib as the `filter` and `filter-lang` parameters.
    cql = expected["filter"]
    page = api.collection_items("terrains", filter=cql, **{"filter-lang": "cql2-text"}, limit=10000)
    got = len(page["features"])
    assert page["numberMatched"] == expected["filter_count"] == got, (page["numberMatched"], got)
    queryables = api.collection_queryables("terrains")
    assert "terr_surf_brute" in queryables["properties"], queryables
    assert "terr_acquereur" not in queryables["properties"], queryables
    print(f"owslib: {len(ids)} collections, bbox {bbox} -> {n} plots, filter -> {got} plots")


if __name__ == "__main__":
    main()
