#!/usr/bin/env bash
# Mutation testing of the request path's core (signature.py, wire.py, service.py) with mutmut.
# Run by hand, never in CI (it takes tens of minutes on 2 cores):
#   .venv/bin/pip install mutmut && bash bench/mutation.sh [more mutmut run args]
# It works on a copy of the working tree in a temporary directory (mutmut writes a mutants/
# folder and wants its settings in setup.cfg), prints the counts and the surviving mutants.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
MUTMUT="${MUTMUT:-$ROOT/.venv/bin/mutmut}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
cd "$ROOT"
git ls-files -z | xargs -0 cp --parents -t "$WORK"
cat >> "$WORK/setup.cfg" <<'CFG'

[mutmut]
source_paths = mockface
only_mutate =
    mockface/legacy/signature.py
    mockface/legacy/wire.py
    mockface/legacy/service.py
also_copy =
    fixtures
    scenarios
    examples
    docs
    README.md
    LICENSE
    MANIFEST.in
    .ci
pytest_add_cli_args_test_selection = tests/
# Subprocess tests import the installed package, not mutmut's mutated copy: leave them out.
pytest_add_cli_args =
    -p
    no:xdist
    -x
    -q
    --ignore=tests/test_plugin.py
    --ignore=tests/test_examples.py
    --ignore=tests/test_cli.py
    --ignore=tests/test_cli_product.py
    --ignore=tests/test_packaging.py
CFG
cd "$WORK"
"$MUTMUT" run "$@" || true
"$MUTMUT" results --all true > "$WORK/results.txt" 2>&1 || "$MUTMUT" results > "$WORK/results.txt" 2>&1 || true
echo "--- mutants by status"
grep -oE ": [a-z ]+$" "$WORK/results.txt" | sort | uniq -c || true
echo "--- surviving mutants"
grep -E ": survived$" "$WORK/results.txt" || true
