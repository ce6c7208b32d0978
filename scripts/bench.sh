#!/usr/bin/env bash
# make bench: the receiver under bursts and sustained rates, and its ingest capacity (see bench/bench.py).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"
exec python bench/bench.py "$@"
