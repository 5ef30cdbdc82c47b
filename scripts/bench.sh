#!/usr/bin/env bash
# Runs every benchmark of authkit-leptos (benches/, release builds) and prints the figures
# BENCHMARKS.md reports, as ratios measured side by side in this one run:
#   per_request     the auth path vs the crypto floor and vs the Node peer (iron-session +
#                   jose from tests/interop/), first and repeat requests, through a router;
#   shared_refresh  a refresh with and without the Redis refresh store (redis-server is
#                   started by the bench on a free loopback port).
# Nothing needs starting by hand and nothing goes to the network. About 5 minutes on the
# 2-core development machine once the release build is warm (a cold one adds ~12). Medians.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/setup.sh
# shellcheck source=/dev/null
. scripts/env.sh
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
LOG="$(mktemp)"
trap 'rm -f "$LOG"' EXIT
t0=$SECONDS
cargo bench --bench per_request --features testing 2>&1 | tee "$LOG"
cargo bench --bench shared_refresh --features testing,redis 2>&1 | tee -a "$LOG"

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
print("\n| figure | median | ratio |\n|---|---:|---|")
for name, us, ratio in rows:
    print(f"| {name} | {us:.1f} µs | {ratio} |")
PY
echo "benchmarks finished in $((SECONDS - t0))s"
