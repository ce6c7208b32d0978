#!/usr/bin/env bash
# usage: stage.sh NAME COMMAND...
# Runs one stage of make test, keeps its whole output in build/logs/NAME.log, prints its time, and when it
# fails repeats the failed tasks and tests at the very end: a CI log that keeps only its tail still shows why.
set -uo pipefail
name=$1
shift
log=build/logs/$name.log
mkdir -p build/logs
start=$SECONDS
echo "==> $name (full output: $log)"
"$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
if [[ $rc -eq 0 ]]; then
    echo "==> $name passed in $((SECONDS - start)) s"
    exit 0
fi
echo
echo "==> $name FAILED (exit $rc) after $((SECONDS - start)) s. What failed, from $log:"
grep -n -B3 -A30 -E '^(fatal|failed): \[|FAILED! =>|^E   |^FAILED |^ERROR ' "$log" | tail -n 200
exit "$rc"
