#!/usr/bin/env bash
# Run a test suite against a mockface server started in the background (the README's recipe).
set -u
READY="$(mktemp -d)/mockface.json"
mockface serve --port 0 --quiet --ready-file "$READY" &
MOCKFACE_PID=$!
trap 'kill $MOCKFACE_PID' EXIT
MOCKFACE_URL=$(mockface wait --ready-file "$READY" --pid $MOCKFACE_PID --timeout 30) || exit 1
MOCKFACE_URL=$MOCKFACE_URL pytest examples/test_with_mockface.py
