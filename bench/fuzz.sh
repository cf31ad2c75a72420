#!/usr/bin/env bash
# The schemathesis run of tests/openapi_fuzz.rs at 1,000 examples per operation (the suite
# runs 100): every check, the stateful phase, against the release binary on the embedded
# dataset, with the suite's hooks (tests/schemathesis/hooks.py). Needs the venv of
# scripts/test.sh. Prints schemathesis's summary and the time.
#   bash bench/fuzz.sh [EXAMPLES]
set -euo pipefail
cd "$(dirname "$0")/.."
examples="${1:-1000}"
st="${ECOFONCIER_SCHEMATHESIS:-$PWD/target/venv/bin/schemathesis}"
[ -x "$st" ] || { echo "no schemathesis at $st: run scripts/test.sh first" >&2; exit 1; }
export ECOFONCIER_LOG=warn
SERVE_ARGS="--workers 2" source bench/serve.sh
mkdir -p target/schemathesis
cd target/schemathesis
start=$(date +%s)
SCHEMATHESIS_HOOKS=hooks PYTHONPATH=../../tests/schemathesis "$st" --config-file ../../tests/schemathesis/embedded.toml run "$base/ogc/api" --url "$base" \
    --checks all --max-examples "$examples" --seed 20261204 --workers 1 --no-color \
    --generation-database none | sed -n '/SUMMARY/,$p'
echo "$examples examples per operation in $(( $(date +%s) - start )) s"
