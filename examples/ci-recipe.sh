#!/usr/bin/env bash
# Run a test suite against a mockface server started in the background (the README's recipe).
set -u
mockface serve --port 8080 --quiet &
MOCKFACE_PID=$!
trap 'kill $MOCKFACE_PID' EXIT
mockface wait http://127.0.0.1:8080 --timeout 30 || exit 1
MOCKFACE_URL=http://127.0.0.1:8080 pytest examples/test_with_mockface.py
