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
# Every summary line starts with ERROR so that a log viewer that shows only the lines around ERROR shows it; it
# goes to the stage's log too. The JSON of a failed task is unfolded (\n -> new line) so its message reads as printed.
summary=$({
    echo "==> $name FAILED (exit $rc) after $((SECONDS - start)) s. What failed, from $log:"
    grep -h -B3 -A60 -E '^(fatal|failed): \[|FAILED! =>|^E   |^FAILED |^ERROR ' "$log" | tail -n 200 | sed 's/\\n/\n/g'
} | tail -n 300 | sed 's/^/ERROR | /')
echo "$summary" | tee -a "$log"
exit "$rc"
