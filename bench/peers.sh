#!/usr/bin/env bash
# The side-by-side table of the README's "Load tests" section, with the shared peer harness
# (bare Flask on waitress, WireMock, mockface default, mockface --workers 2 on Redis), in one
# run on this machine. By hand, about 15 minutes on 2 cores; needs wrk, Java 17 and
# redis-server (apt-get install wrk openjdk-17-jre-headless redis-server).
#
#   bash bench/peers.sh [PATH_TO_bench-peers]      # default: ../shared/bench-peers
#
# The harness is copied to a temporary directory (it writes venvs and results there);
# tables end up in that directory's out/peers/tables.md, printed at the end.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
HARNESS="$(cd "${1:-$ROOT/../shared/bench-peers}" && pwd)"
WORK="$(mktemp -d)"
cp -r "$HARNESS" "$WORK/bench-peers"
cd "$WORK/bench-peers"

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
redis-server --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$WORK" >/dev/null &
REDIS_PID=$!
trap 'kill $REDIS_PID 2>/dev/null || true' EXIT
export REDIS_URL="redis://127.0.0.1:$PORT/0" MOCKFACE_CHECKOUT="$ROOT"

STEPS=setup ./run.sh
.venv-mf/bin/pip install -q "$ROOT[redis]"
OUT=out/peers STEPS=bench ROUNDS=3 DURATION=5 WORKLOADS=W1,W2,W3 \
  SERVERS=waitress-t64,wiremock,mockface,mockface-quiet,mockface-w2-redis ./run.sh
OUT=out/peers STEPS=bench ROUNDS=3 WORKLOADS=W4 \
  SERVERS=waitress-t256-cl1000,wiremock-async,mockface-w4 ./run.sh
OUT=out/peers STEPS=report ./run.sh
cat out/peers/tables.md
echo "results: $WORK/bench-peers/out/peers"
