"""Print build/bench/results.json as the Markdown table in docs/receiver-performance.md, and
build/bench/relp.json (make bench-relp) as the table in docs/reliable.md."""

import json
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "build" / "bench"
if (BENCH / "relp.json").exists():
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import relp

    relp.print_table(json.loads((BENCH / "relp.json").read_text()))
    print()
if not (BENCH / "results.json").exists():
    sys.exit(0)
results = json.loads((BENCH / "results.json").read_text())
COLUMNS = [
    "case",
    "receiver",
    "sent",
    "written",
    "lost (worst of runs)",
    "RcvbufErrors",
    "receiver CPU %",
    "last line on disk after last sent (ms)",
]
print("| " + " | ".join(COLUMNS) + " |")
print("|---|---|---:|---:|---:|---:|---:|---:|")
for case, kinds in results["cases"].items():
    for kind, r in kinds.items():
        print(
            f"| {case} | {kind} | {r['sent']:,.0f} | {r['written']:,.0f} | {r['lost']:,.0f} ({r['lost_max']:,.0f}) "
            f"| {r['rcvbuf_errors']:,.0f} | {r['cpu_pct']:.0f} | {r['drain_ms']:.1f} |"
        )
ing = results["ingest"]
print()
print(f"net.core.skb_defer_max: {results.get('skb_defer_max')}")
print()
print("| ingest capacity, one core | lines/s (median) | lines per CPU second (median) | runs (thousand lines/s) |")
print("|---|---:|---:|---|")
for kind, figures in ing.items():
    runs = ", ".join(str(round(rate / 1000)) for rate in figures["runs"])
    print(f"| {kind} | {figures['rate']:,} | {figures['per_cpu_second']:,} | {runs} |")
ref = results.get("reference_on_this_machine")
if ref:
    print(f"| the issue's 0.8M/s target, scaled by this machine's C reader | {ref['target']:,} |")
    print(f"| netconsd's 0.58M/s, scaled the same way | {ref['netconsd']:,} |")
events = {kind: figures["events"] for kind, figures in ing.items() if "events" in figures}
if events:
    print()
    print(
        "| events service, each ingest run | lines behind when rsyslog wrote the last (events.json's offset) "
        "| seconds until all read | its CPU seconds | of which during the drain |"
    )
    print("|---|---|---|---|---|")
    for kind, ev in events.items():
        behind = ", ".join(f"{n:,}" for n in ev["behind_at_drain"])
        cells = [", ".join(map(str, ev.get(key, []))) for key in ("catchup_s", "cpu_s", "cpu_in_drain_s")]
        print(f"| {kind} | {behind} | " + " | ".join(cells) + " |")
if "load_before" in results:
    print()
    load = f"{results['load_before']}, after: {results['load_after']}"
    print(f"load average (1, 5, 15 min) before the timed runs: {load}")
sys.exit(0)
