"""schemathesis hooks for the runs of tests/openapi_fuzz.rs.

Nine positive comparisons in ten get real EPCIs (`_COMPARED`).

A schema cannot say what makes a feature writable: a plot inside a site of the token's
EPCI, codes from the CNIG standard's lists. So in the stateful phase, where schemathesis
chains a creation to what its links allow (read, update, history, delete), a positive
creation writes the document's own example plot under a fresh id, and a positive update
of a plot it created (PATCH, or PUT of the example under that id) changes its occupancy to
another value of the standard's list. Every other case is left as
generated, so the negative ones stay invalid.

With ECOFONCIER_FUZZ_LOG set, every answer of the stateful phase is appended to that file
as one JSON line (method, operation path, feature id, status), so the test can check that
chains went from a creation to its deletion.
"""

import itertools
import json
import os

import schemathesis
import copy
from schemathesis.generation import GenerationMode
from schemathesis.generation.meta import TestPhase

_ids = itertools.count(1)
_occupancy = ["occupé", "vacant", "non renseigné"]


def _positive_stateful(case):
    meta = case.meta
    return (
        meta is not None
        and meta.phase.name == TestPhase.STATEFUL
        and meta.generation.mode == GenerationMode.POSITIVE
    )


# Lists of real EPCIs for the comparison: its `epci` is an array, which a config
# dictionary (strings) cannot fill, and random SIRENs only reach its 404.
_COMPARED = ["200018083,240200477", "200018083,240200477,240200501"]


def _positive(case):
    return case.meta is not None and case.meta.generation.mode == GenerationMode.POSITIVE


@schemathesis.hook
def map_case(context, case):
    label = case.operation.label
    if label == "GET /api/v1/compare" and _positive(case) and next(_ids) % 10:
        case.query = {**(case.query or {}), "epci": _COMPARED[next(_ids) % len(_COMPARED)]}
        return case
    if not _positive_stateful(case):
        return case
    if label == "POST /ogc/collections/{collectionId}/items":
        body = copy.deepcopy(_example(case))
        body["properties"]["terr_id"] = f"SCHEMATHESIS_TERRAIN-ECO_{os.getpid()}_{next(_ids):05}"
        case.path_parameters = {**(case.path_parameters or {}), "collectionId": "terrains"}
        case.headers = {
            k: v for k, v in (case.headers or {}).items() if k.lower() not in ("if-match", "content-crs")
        }
        case.body = body
    elif _one_of_ours(case):
        occupancy = _occupancy[next(_ids) % len(_occupancy)]
        if label == "PATCH /ogc/collections/{collectionId}/items/{featureId}":
            case.body = {"properties": {"terr_etat_occup": occupancy}}
        elif label == "PUT /ogc/collections/{collectionId}/items/{featureId}":
            body = copy.deepcopy(_example(case))
            body["properties"]["terr_id"] = case.path_parameters["featureId"]
            body["properties"]["terr_etat_occup"] = occupancy
            case.headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "content-crs"}
            case.body = body
    return case


def _one_of_ours(case):
    """A plot this phase created, addressed through a link."""
    params = case.path_parameters or {}
    return params.get("collectionId") == "terrains" and str(params.get("featureId", "")).startswith(
        "SCHEMATHESIS_"
    )


def _example(case):
    """The document's example plot (the creation's request body example)."""
    schema = case.operation.schema.raw_schema
    post = schema["paths"]["/ogc/collections/{collectionId}/items"]["post"]
    return post["requestBody"]["content"]["application/geo+json"]["example"]


@schemathesis.hook
def filter_failure(context, failure, case, response):
    """Keeps every failure but one: the audit history outlives its feature.

    After a deletion, `GET …/items/{featureId}/history` still answers 200 with the deletion
    as its last row (who deleted what, and what it was); schemathesis's "deleted resource
    still available" (ST301) takes that sub-resource for the feature itself. A read of the
    feature after its deletion is still checked.
    """
    return not (
        getattr(failure, "code", None) == "ST301"
        and case.operation.label.endswith("/{featureId}/history")
        and response.status_code == 200
    )


def _created_id(response):
    if response.status_code != 201:
        return None
    try:
        return response.json().get("id")
    except ValueError:
        return None


@schemathesis.check
def stateful_log(ctx, response, case):
    """Never fails: records the stateful phase's answers for the test to read."""
    path = os.environ.get("ECOFONCIER_FUZZ_LOG")
    if not path or case.meta is None or case.meta.phase.name != TestPhase.STATEFUL:
        return None
    params = case.path_parameters or {}
    with open(path, "a", encoding="utf-8") as out:
        out.write(
            json.dumps(
                {
                    "operation": case.operation.label,
                    "collection": params.get("collectionId"),
                    "feature": params.get("featureId"),
                    "status": response.status_code,
                    "created": _created_id(response),
                }
            )
            + "\n"
        )
    return None
