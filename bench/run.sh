#!/usr/bin/env bash
# Portcullis benchmarks side by side with the baselines of ../shared/bench, in one run.
#
#   bash bench/run.sh            # authz (W1, W1b) + tickets (W3) against Pyramid
#   REPS=3 bash bench/run.sh     # fewer Rust repetitions (smoke run)
#
# Writes $BENCH_WORK/portcullis/<UTC stamp>/{env.txt,*.jsonl,summary.md}
# (BENCH_WORK defaults to /tmp/portcullis-bench, shared with ../shared/bench/run_baselines.sh).
# The figures in docs/PERFORMANCE.md come from summary.md.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SHARED="${PORTCULLIS_SHARED:-$ROOT/../shared}"
WORK="${BENCH_WORK:-/tmp/portcullis-bench}"
VENV="$WORK/venv"
DATA="$WORK/data"
mkdir -p "$WORK"
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/python" -c "import pyramid" 2>/dev/null || "$VENV/bin/pip" install -q "pyramid==2.1"
python3 "$SHARED/bench/gen_workloads.py" "$DATA" >/dev/null
OUT="$WORK/portcullis/$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$OUT"
{
  echo "date_utc: $(date -u +%FT%TZ)"
  echo "nproc: $(nproc)"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | xargs)"
  echo "loadavg_before: $(cat /proc/loadavg)"
  echo "rustc: $(rustc --version)"
  echo "python: $("$VENV/bin/python" --version 2>&1)"
  echo "workload_summary: $(tr -d '\n ' < "$DATA/summary.json")"
} > "$OUT/env.txt"

cd "$ROOT"
export PORTCULLIS_BENCH_DATA="$DATA"
echo ">> building benches"
cargo bench --no-run -q -p portcullis-authz --bench w1 2>/dev/null
echo ">> pyramid (W1, W1b, W3)"
"$VENV/bin/python" "$SHARED/bench/python/bench_pyramid.py" "$DATA" "${PY_REPS:-3}" | tee "$OUT/pyramid.jsonl"
echo ">> portcullis-authz (W1, W1b)"
REPS="${REPS:-7}" cargo bench -q -p portcullis-authz --bench w1 | tee "$OUT/authz.jsonl"
if [ -f crates/web/benches/ticket.rs ] && grep -q W3 crates/web/benches/ticket.rs; then
  echo ">> portcullis-web tickets (W3)"
  cargo bench -q -p portcullis-web --bench ticket | tee "$OUT/web.txt" || true
fi
echo "loadavg_after: $(cat /proc/loadavg)" >> "$OUT/env.txt"
python3 "$ROOT/bench/ratios.py" "$OUT" | tee "$OUT/summary.md"
echo ">> results in $OUT"
