#!/usr/bin/env bash
# Runs every benchmark of authkit-leptos (benches/, release builds) and prints the figures
# BENCHMARKS.md reports, as ratios measured side by side in this one run:
#   per_request     the auth path vs the crypto floor and vs the Node peer (iron-session +
#                   jose from tests/interop/), first and repeat requests, through a router;
#                   and (P1b) the floor, first and repeat requests timed in alternating
#                   batches, the median of the per-round ratios;
#   jwks            P4: JWKS fetches per cache period and per cooldown under load, and
#                   latency while a refetch is in flight (movable clock);
#   shared_refresh  a refresh with and without the Redis refresh store (redis-server is
#                   started by the bench on a free loopback port), and P3: 200 concurrent
#                   requests with one expired session, one router and two replicas;
#   P2 (here)       page throughput of the demo's release build under wrk (Debian's),
#                   a protected page with a valid session vs the same page open, and the
#                   demo's memory (VmRSS) after warm-up, after each run, and at its peak.
#   pages           scripts/bench-pages.sh (#27): the same pages on Next.js + authkit-nextjs
#                   side by side (P6 throughput, latency and memory; P3-peer, the refresh
#                   storm against both; P7, the browser bundle and its budget; P2 again, from
#                   interleaved rounds). Its own command too: ./scripts/bench-pages.sh; its
#                   first run installs the peer from its package-lock.json (npm ci).
# Nothing needs starting by hand and nothing goes to the network. About 5 minutes on the
# 2-core development machine once the release build is warm (a cold one adds ~12). Medians.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/setup.sh
# shellcheck source=/dev/null
. scripts/env.sh
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
# As in scripts/test.sh: leptos reads it at compile time; one value for every build here.
eval "$(python3 scripts/site.py env --package authkit-demo | grep '^export LEPTOS_OUTPUT_NAME=')"
LOG="$(mktemp)"
trap 'rm -f "$LOG"' EXIT
t0=$SECONDS
cargo bench --bench per_request --features testing 2>&1 | tee "$LOG"
cargo bench --bench jwks --features testing 2>&1 | tee -a "$LOG"
cargo bench --bench shared_refresh --features testing,redis 2>&1 | tee -a "$LOG"

# ---- P2: the demo's release build under wrk.
python3 scripts/site.py build --release --package authkit-demo 2>&1 | tail -3
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
PORT="$(free_port)"
BASE="http://127.0.0.1:$PORT"
JAR="$(mktemp)"
LEPTOS_SITE_ADDR="127.0.0.1:$PORT" AUTHKIT_DEMO_AUTO_APPROVE=ada@example.com \
  "$TARGET/release/authkit-demo" >/dev/null 2>&1 &
DEMO_PID=$!
trap 'kill $DEMO_PID 2>/dev/null || true; rm -f "$LOG" "$JAR"' EXIT
for _ in $(seq 100); do curl -sf -o /dev/null "$BASE/about" && break; sleep 0.1; done
curl -sf -L -c "$JAR" -b "$JAR" -o /dev/null "$BASE/auth/sign-in?return_to=/about"
COOKIE="$(awk '$6 ~ /^wos-session/ { printf "%s%s=%s", sep, $6, $7; sep="; " }' "$JAR")"
[ -n "$COOKIE" ] || { echo "P2: could not sign in to the demo" >&2; exit 1; }
curl -sf -H "Cookie: $COOKIE" "$BASE/protected/about" | grep -q "About this notebook" \
  || { echo "P2: the protected page did not render for the signed-in user" >&2; exit 1; }
rss() { awk '/^VmRSS/ { print $2 }' "/proc/$DEMO_PID/status"; }
hwm() { awk '/^VmHWM/ { print $2 }' "/proc/$DEMO_PID/status"; }
WRK=(wrk -t2 -c32 -d10s --latency)
wrk -t2 -c32 -d3s "$BASE/about" >/dev/null
wrk -t2 -c32 -d3s -H "Cookie: $COOKIE" "$BASE/protected/about" >/dev/null
echo "P2 rss after warm-up: $(rss) KiB" | tee -a "$LOG"
for round in 1 2; do
  for page in open_anonymous open_signed_in protected_signed_in; do
    case "$page" in
      open_anonymous) out="$("${WRK[@]}" "$BASE/about")" ;;
      open_signed_in) out="$("${WRK[@]}" -H "Cookie: $COOKIE" "$BASE/about")" ;;
      protected_signed_in) out="$("${WRK[@]}" -H "Cookie: $COOKIE" "$BASE/protected/about")" ;;
    esac
    rps="$(awk '/^Requests\/sec/ { print $2 }' <<<"$out")"
    non2xx="$(awk '/Non-2xx/ { print $NF }' <<<"$out")"
    echo "P2 $page round $round: ${rps} requests/s, non-2xx ${non2xx:-0}, rss $(rss) KiB"
  done
done | tee -a "$LOG"
echo "P2 peak rss: $(hwm) KiB" | tee -a "$LOG"
kill $DEMO_PID

python3 - "$TARGET/criterion" "$LOG" <<'PY'
import json, os, re, sys
root, log = sys.argv[1], sys.argv[2]
median = {}
for dirpath, _, files in os.walk(root):
    if dirpath.endswith(os.sep + "new") and "benchmark.json" in files and "estimates.json" in files:
        bid = json.load(open(os.path.join(dirpath, "benchmark.json")))["full_id"]
        median[bid] = json.load(open(os.path.join(dirpath, "estimates.json")))["median"]["point_estimate"] / 1000.0
node = float(re.search(r"node/unseal\+jwtVerify\s+([0-9.]+) µs", open(log).read()).group(1))
floor = median["floor/rsa2048_verify"] + median["floor/iron_primitives"]
first, repeat = median["unseal+verify/first"], median["unseal+verify/repeat"]
bare = median["router/without_layer"]
rows = [
    ("floor: RSA-2048 verify + iron primitives", floor, "1.00 × floor"),
    ("unseal + verify, first request", first, f"{first/floor:.2f} × floor"),
    ("unseal + verify, repeat request", repeat, f"{repeat/floor:.2f} × floor"),
    ("Node peer: unsealData + jwtVerify", node, f"{node/first:.0f} × ours (first), {node/repeat:.0f} × ours (repeat)"),
    ("router, no layer", bare, ""),
    ("router + layer, first request", median["router/with_layer/first"], f"layer adds {median['router/with_layer/first']-bare:.1f} µs = {(median['router/with_layer/first']-bare)/floor:.2f} × floor"),
    ("router + layer, repeat request", median["router/with_layer/repeat"], f"layer adds {median['router/with_layer/repeat']-bare:.1f} µs = {(median['router/with_layer/repeat']-bare)/floor:.2f} × floor"),
    ("refresh, in-process gate", median["refresh/in_process"], ""),
    ("refresh, Redis refresh store", median["refresh/shared_redis"], f"{median['refresh/shared_redis']/median['refresh/in_process']:.2f} × in-process (+{median['refresh/shared_redis']-median['refresh/in_process']:.0f} µs)"),
    ("signed-in request, in-process gate", median["signed_in/in_process"], ""),
    ("signed-in request, Redis refresh store", median["signed_in/shared_redis"], f"{median['signed_in/shared_redis']/median['signed_in/in_process']:.2f} × in-process"),
]
rows += [
    ("storm: 200 requests, one expired session, one router", median["storm/in_process_200"], "1 refresh, 1 new cookie (checked)"),
    ("storm: 200 requests split over two replicas + Redis", median["storm/two_replicas_redis_200"], f"{median['storm/two_replicas_redis_200']/median['storm/in_process_200']:.2f} × one router; 1 refresh (checked)"),
    ("big session (200 permissions, 50 flags), first request", median["big_session/big/first"], f"{median['big_session/big/first']/median['big_session/usual/first']:.2f} × a usual session"),
    ("big session, repeat request", median["big_session/big/repeat"], f"{median['big_session/big/repeat']/median['big_session/usual/repeat']:.2f} × a usual session"),
]
print("\n| figure | median | ratio |\n|---|---:|---|")
for name, us, ratio in rows:
    print(f"| {name} | {us:.1f} µs | {ratio} |")
text = open(log).read()
# P1b side by side: floor, first and repeat batches alternating in one loop.
for line in re.findall(r"^paired/.*$", text, re.M):
    print("P1b " + line)
for line in re.findall(r"^P4 .*$", text, re.M):
    print(line)
p2 = {}
for page, rps in re.findall(r"^P2 (\w+) round \d+: ([0-9.]+) requests/s", text, re.M):
    p2.setdefault(page, []).append(float(rps))
for line in re.findall(r"^P2 .*$", text, re.M):
    print(line)
avg = {k: sum(v) / len(v) for k, v in p2.items()}
if len(avg) == 3:
    a, o, p = avg["open_anonymous"], avg["open_signed_in"], avg["protected_signed_in"]
    print(f"P2 protected vs open, both signed in: {p:.0f}/s vs {o:.0f}/s = {p/o:.3f}")
    print(f"P2 protected signed in vs open anonymous: {p:.0f}/s vs {a:.0f}/s = {p/a:.3f}")
    print(f"P2 open signed in vs open anonymous: {o:.0f}/s vs {a:.0f}/s = {o/a:.3f}")
PY

# ---- The same pages on Next.js + authkit-nextjs, side by side (#27): P6, P3-peer, P7, P2.
PAGES_SKIP_SETUP=1 bash scripts/bench-pages.sh
echo "benchmarks finished in $((SECONDS - t0))s"
