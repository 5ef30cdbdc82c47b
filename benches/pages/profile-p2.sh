#!/usr/bin/env bash
# What `<ProtectedRoute>` costs on the demo's page (P2, BENCHMARKS.md), counted instead of
# timed: the demo's release build runs under valgrind's callgrind (instructions executed,
# not time, so the VM's noise drops out), signed in as ada@example.com against the
# standalone emulator; after a warm-up, N requests to `/about` and N to `/protected/about`
# (the same page, open and behind `<ProtectedRoute>`), each batch dumped on its own. Prints
# the instructions per request of each and their ratio, then the functions whose inclusive
# cost differs most between the two (callgrind_annotate), and keeps the profiles.
#
#   benches/pages/profile-p2.sh [N]      (N = 2000; about 2 minutes)
#
# Needs the release builds scripts/bench-pages.sh makes (it does not build them) and
# valgrind (Debian's). PROFILE_OUT=<dir> keeps the profiles there (default: a temporary
# directory, printed).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
N="${1:-2000}"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
OUT="${PROFILE_OUT:-$(mktemp -d)}"
mkdir -p "$OUT"
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]+"${PIDS[@]}"}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]+"${PIDS[@]}"}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
wait_for() {
  for _ in $(seq 600); do curl -s -o /dev/null "$1" && return 0; sleep 0.1; done
  echo "profile-p2: $1 did not answer" >&2
  exit 1
}
EMU_PORT="$(free_port)"
"$TARGET/release/workos-emulator" --port "$EMU_PORT" --auto-approve ada@example.com --token-ttl 86400 --json \
  >"$OUT/emulator.log" 2>&1 &
PIDS+=("$!")
wait_for "http://127.0.0.1:$EMU_PORT/health"
read -r CLIENT_ID API_KEY < <(python3 -c 'import json,sys; d=json.loads(open(sys.argv[1]).readline()); print(d["client_id"], d["api_key"])' "$OUT/emulator.log")
PORT="$(free_port)"
BASE="http://127.0.0.1:$PORT"
WORKOS_CLIENT_ID="$CLIENT_ID" WORKOS_API_KEY="$API_KEY" WORKOS_API_HOSTNAME=127.0.0.1 \
  WORKOS_API_PORT="$EMU_PORT" WORKOS_API_HTTPS=false WORKOS_REDIRECT_URI="$BASE/callback" \
  WORKOS_COOKIE_PASSWORD="$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" \
  LEPTOS_SITE_ADDR="127.0.0.1:$PORT" \
  valgrind --tool=callgrind --callgrind-out-file="$OUT/callgrind.out.%p" \
  "$TARGET/release/authkit-demo" >"$OUT/demo.log" 2>&1 &
DEMO_PID=$!
PIDS+=("$DEMO_PID")
wait_for "$BASE/about"
JAR="$OUT/jar"
curl -sf -L -c "$JAR" -b "$JAR" -o /dev/null "$BASE/auth/sign-in?return_to=/about"
COOKIE="$(awk '$6 ~ /^wos-session/ { printf "%s%s=%s", sep, $6, $7; sep="; " }' "$JAR")"
hammer() { python3 benches/pages/pages.py hammer "$BASE$1" "$COOKIE" "$2" ada@example.com; }
dump() { callgrind_control --dump="$1" "$DEMO_PID" >/dev/null; }
# Warm-up (caches filled, allocator and runtime settled), then dropped.
hammer /about 300
hammer /protected/about 300
dump warmup
hammer /about "$N"
dump open
hammer /protected/about "$N"
dump protected
kill -INT "$DEMO_PID"
wait "$DEMO_PID" 2>/dev/null || true
ir() { # the total instructions of the dump named $1
  local f
  f="$(grep -l "^desc: Trigger: dump $1\$" "$OUT"/callgrind.out.* | head -1)"
  awk '/^summary:|^totals:/ { print $2; exit }' "$f"
  echo "$f" >"$OUT/$1.file"
}
open_ir="$(ir open)"
protected_ir="$(ir protected)"
python3 - "$open_ir" "$protected_ir" "$N" <<'PY'
import sys
o, p, n = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
print(f"P2 profile: /about {o / n:,.0f} instructions per request, /protected/about {p / n:,.0f}: "
      f"ratio {p / o:.4f} (+{(p - o) / n:,.0f} per request, {100 * (p - o) / o:+.2f} %)")
PY
for which in open protected; do
  callgrind_annotate --inclusive=yes --threshold=100 "$(cat "$OUT/$which.file")" >"$OUT/$which.inclusive" 2>/dev/null
done
python3 - "$OUT/open.inclusive" "$OUT/protected.inclusive" "$N" <<'PY'
import re, sys
n = int(sys.argv[3])
def load(p):
    d = {}
    for line in open(p):
        m = re.match(r"^\s*([\d,]+) \([\d.]+%\)\s+(.*?)(?: \[[^\]]*\])?$", line)
        if m and "PROGRAM TOTALS" not in line:
            d[m.group(2)] = d.get(m.group(2), 0) + int(m.group(1).replace(",", "")) / n
    return d
o, p = load(sys.argv[1]), load(sys.argv[2])
rows = sorted(((p.get(k, 0) - o.get(k, 0), k) for k in set(o) | set(p)), reverse=True)
print("inclusive instructions per request that grew most behind <ProtectedRoute> (callers include callees):")
for d, k in rows[:30]:
    print(f"  {d:+9.0f}  (open {o.get(k, 0):8.0f}, protected {p.get(k, 0):8.0f})  {k[:160]}")
PY
echo "profiles in $OUT"
