#!/usr/bin/env bash
# Runs every test of authkit-leptos, as CI does:
#   formatting, clippy (server side and the wasm32 hydrate side, -D warnings),
#   unit + integration tests with cargo nextest (the router, the emulator over loopback,
#   the real iron-session / @workos-inc/node / jose from npm), and the Playwright suite
#   driving the demo in Debian's Chromium via `cargo leptos end-to-end`.
# It runs scripts/setup.sh first (about a second when everything is installed).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/setup.sh
# shellcheck source=/dev/null
. scripts/env.sh

step() { printf '\n==> %s\n' "$*"; }
t0=$SECONDS
LOG_DIR="$(mktemp -d)"
trap 'rm -rf "$LOG_DIR"' EXIT

step "cargo fmt --check"
cargo fmt --all --check

step "clippy (server side, all features, all targets)"
cargo clippy --workspace --all-targets --features authkit-leptos/cli,authkit-leptos/redis,authkit-demo/ssr,start-axum/ssr -- -D warnings

step "clippy (hydrate side, wasm32, no server dependency)"
cargo clippy --target wasm32-unknown-unknown -p authkit-leptos -p authkit-demo -p start-axum --lib \
  --features authkit-demo/hydrate,start-axum/hydrate -- -D warnings

step "a browser build without authkit-leptos/hydrate fails with a message that says what to add"
if out="$(cargo check --quiet --target wasm32-unknown-unknown -p authkit-leptos --lib 2>&1)"; then
  echo "expected a compile error for wasm32 without the hydrate feature" >&2; exit 1
fi
grep -q 'hydrate = \["leptos/hydrate", "authkit-leptos/hydrate"\]' <<<"$out" \
  || { echo "the compile error does not say what to add:" >&2; echo "$out" >&2; exit 1; }
echo "ok: the error names hydrate = [\"leptos/hydrate\", \"authkit-leptos/hydrate\"]"

step "cargo nextest (unit, integration, interop)"
cargo nextest run --workspace --features authkit-leptos/cli,authkit-leptos/redis,authkit-demo/ssr,start-axum/ssr --no-fail-fast 2>&1 | tee "$LOG_DIR/nextest.log"

step "doc examples (cargo test --doc)"
cargo test --doc --workspace --features authkit-leptos/cli,authkit-leptos/redis,authkit-demo/ssr 2>&1 | tee "$LOG_DIR/doctest.log"

step "end-to-end (cargo leptos end-to-end + Playwright in Chromium)"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
LEPTOS_SITE_ADDR="127.0.0.1:$(free_port)" LEPTOS_RELOAD_PORT="$(free_port)" \
  AUTHKIT_DEMO_EMULATOR_PORT="$(free_port)" E2E_ARTIFACTS="$ROOT/target/e2e-artifacts" \
  cargo leptos end-to-end 2>&1 | tee "$LOG_DIR/e2e.log"

step "examples/start-axum end-to-end (its own WorkOS emulator, as its README runs it)"
E2E_ARTIFACTS="$ROOT/target/e2e-artifacts" bash scripts/example-e2e.sh 2>&1 | tee "$LOG_DIR/example-e2e.log"

# One closing line over both runners.
rust_passed=$(sed -n 's/.* tests run: \([0-9]*\) passed.*/\1/p' "$LOG_DIR/nextest.log" | tail -1)
doc_passed=$(sed -n 's/^test result: ok\. \([0-9]*\) passed.*/\1/p' "$LOG_DIR/doctest.log" | awk '{ s += $1 } END { print s + 0 }')
e2e_passed=$(cat "$LOG_DIR/e2e.log" "$LOG_DIR/example-e2e.log" | sed -n 's/^ *\([0-9][0-9]*\) passed.*/\1/p' | awk '{ s += $1 } END { print s + 0 }')
printf '\nall tests green in %ss (nextest %s, doc examples %s, Playwright %s)\n' "$((SECONDS - t0))" "${rust_passed:-?}" "${doc_passed:-?}" "${e2e_passed:-?}"
printf '%s passed, 0 failed\n' "$(( ${rust_passed:-0} + ${doc_passed:-0} + ${e2e_passed:-0} ))"
