#!/usr/bin/env bash
# What `<GuardedRoute>` costs on the demo's page (P2, BENCHMARKS.md), counted instead of
# timed: the demo's release build runs under valgrind's callgrind (instructions executed,
# not time, so the VM's noise drops out), signed in as ada@example.com against the
# standalone emulator; after a warm-up, N requests to `/about` and N to `/protected/about`
# (the same page, open and behind `<GuardedRoute>`), each batch dumped on its own. Prints
# the instructions per request of each and their ratio, then where the difference is (self
# cost per function, grouped: the guard, the layer's matcher, route matching, the
# allocator, …), and keeps the profiles.
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
# Self cost per function (instructions executed in the function itself), read from the
# profiles directly: callgrind_annotate's self view does not resolve these release builds.
python3 - "$(cat "$OUT/open.file")" "$(cat "$OUT/protected.file")" "$N" <<'PY'
import re, sys
from collections import Counter

def self_cost(path):
    names, out, cur, call_line = {}, Counter(), None, False
    for line in open(path, errors="replace"):
        line = line.rstrip("\n")
        if line.startswith("fn="):
            m = re.match(r"fn=\((\d+)\)(?: (.*))?", line)
            if m.group(2):
                names[m.group(1)] = m.group(2)
            cur = names.get(m.group(1), m.group(1))
        elif line.startswith("calls="):
            call_line = True  # the next cost line is the callee's, not this function's
        elif line.startswith(("cfn=", "cfi=", "cfl=", "cob=")):
            m = re.match(r"cfn=\((\d+)\) (.*)", line)
            if m:
                names[m.group(1)] = m.group(2)
        elif line[:1].isdigit() or line[:1] in "+-*":
            if call_line:
                call_line = False
            elif cur is not None and len(line.split()) >= 2:
                out[cur] += int(line.split()[1])
    return out

n = int(sys.argv[3])
o, p = self_cost(sys.argv[1]), self_cost(sys.argv[2])
rows = sorted(((p[k] - o[k], k) for k in set(o) | set(p)), reverse=True)
kinds = [
    ("the guard (components/protected.rs, its Memo)", r"authkit_leptos::components::protected|MemoInner|GuardedView"),
    ("the crate's layer matcher", r"authkit_leptos::matcher"),
    ("route matching, URL and path parsing", r"leptos_router::matching|url::parser|SplitInternal|CharSearcher|memchr|memcmp|from_iter|spec_extend"),
    ("the allocator", r"malloc|free|_int_|unlink_chunk|__rdl_|__rust_alloc|__rust_dealloc|raw_vec|finish_grow|do_reserve"),
    ("copying", r"memcpy|memmove"),
]
by_kind = Counter()
for d, k in rows:
    by_kind[next((name for name, rx in kinds if re.search(rx, k)), "everything else")] += d
print("where the difference is (self instructions per request, protected - open):")
for name, d in by_kind.most_common():
    print(f"  {d / n:+8.0f}  {name}")
print("the functions that grew most:")
for d, k in rows[:25]:
    print(f"  {d / n:+8.0f}  (open {o[k] / n:7.0f}, protected {p[k] / n:7.0f})  {k[:140]}")
PY
echo "profiles in $OUT"
