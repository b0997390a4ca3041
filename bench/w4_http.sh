#!/usr/bin/env bash
# W4 over loopback HTTP: Portcullis (/hello bare axum, and the protected W4 path, same server)
# and Pyramid (gunicorn 2 workers x 4 gthreads, ../shared/bench/python/w4_pyramid.py), measured
# in one run with the baseline protocol: wrk -t2 -c64 -d${DURATION:-10}s --latency, a 2 s warm-up,
# ${REPS:-3} repetitions interleaved, medians. Loopback only; every wrk run is wrapped in timeout.
#
#   bash bench/w4_http.sh      # appends JSON lines to $OUT/http.jsonl (OUT defaults to a new dir)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SHARED="${PORTCULLIS_SHARED:-$ROOT/../shared}"
WORK="${BENCH_WORK:-/tmp/portcullis-bench}"
VENV="$WORK/venv"
DATA="$WORK/data"
OUT="${OUT:-$WORK/portcullis/w4-$(date -u +%Y%m%dT%H%M%SZ)}"
REPS="${REPS:-3}"; DURATION="${DURATION:-10}"
mkdir -p "$OUT"
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/python" -c "import pyramid, gunicorn" 2>/dev/null || "$VENV/bin/pip" install -q "pyramid==2.1" "gunicorn==23.0.0"
[ -f "$DATA/w4.json" ] || python3 "$SHARED/bench/gen_workloads.py" "$DATA" >/dev/null

cd "$ROOT"
cargo bench --no-run -q -p portcullis-web --bench w4 2>/dev/null
BIN=$(ls -t target/release/deps/w4-* | grep -v '\.d$' | head -1)
COOKIE="auth_tkt=$(python3 -c "import json,sys;print(json.load(open(sys.argv[1]))['ticket'])" "$DATA/w4.json")"

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
PORTCULLIS_BENCH_DATA="$DATA" "$BIN" --serve 18093 > "$OUT/leaf.txt" 2>/dev/null & pids+=($!)
(cd "$SHARED/bench/python" && PORTCULLIS_BENCH_DATA="$DATA" PYTHONPATH=. "$VENV/bin/gunicorn" -w 2 -k gthread --threads 4 \
  --keep-alive 5 -b 127.0.0.1:18092 --log-level warning w4_pyramid:app) & pids+=($!)
for _ in $(seq 1 50); do
  [ -s "$OUT/leaf.txt" ] && curl -s -o /dev/null http://127.0.0.1:18092/open && break
  sleep 0.2
done
LEAF=$(head -1 "$OUT/leaf.txt")
check() { curl -s -o /dev/null -w "%{http_code}" -H "Cookie: $COOKIE" "$1"; }
[ "$(check "http://127.0.0.1:18093$LEAF")" = 200 ] || { echo "portcullis protected path did not answer 200"; exit 1; }
[ "$(curl -s -o /dev/null -w "%{http_code}" "http://127.0.0.1:18093$LEAF")" = 401 ] || { echo "anonymous request was not refused"; exit 1; }
[ "$(check http://127.0.0.1:18092/protected)" = 200 ] || { echo "pyramid /protected did not answer 200"; exit 1; }

configs=("portcullis /hello (bare axum handler)|http://127.0.0.1:18093/hello"
         "portcullis protected (cookie, ticket, groupfinder, ACL)|http://127.0.0.1:18093$LEAF"
         "pyramid+gunicorn (2 workers x 4 gthreads) /protected|http://127.0.0.1:18092/protected")
declare -A rps p99
for rep in $(seq 1 "$REPS"); do
  for c in "${configs[@]}"; do
    name="${c%%|*}"; url="${c#*|}"
    [ "$rep" = 1 ] && timeout 20 wrk -t2 -c64 -d2s -H "Cookie: $COOKIE" "$url" >/dev/null
    out=$(timeout $((DURATION + 15)) wrk -t2 -c64 -d"${DURATION}s" --latency --timeout 5s -H "Cookie: $COOKIE" "$url")
    r=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
    l=$(echo "$out" | awk '$1 == "99%" {print $2}')
    rps[$name]="${rps[$name]:-} $r"; p99[$name]="${p99[$name]:-} $l"
  done
done
for c in "${configs[@]}"; do
  name="${c%%|*}"
  python3 - "$name" "${rps[$name]}" "${p99[$name]}" <<'PY' | tee -a "$OUT/http.jsonl"
import json, statistics, sys
name, rps, p99 = sys.argv[1], [float(x) for x in sys.argv[2].split()], sys.argv[3].split()
print(json.dumps({"impl": name, "workload": "W4-http", "req_per_s_median": statistics.median(rps), "req_per_s": rps, "p99": p99}))
PY
done
echo ">> results in $OUT/http.jsonl"
