#!/usr/bin/env bash
# Runs every test of authkit-leptos, as CI does:
#   formatting, clippy (server side and the wasm32 hydrate side, -D warnings),
#   unit + integration tests with cargo nextest (the router, the emulator over loopback,
#   the real iron-session / @workos-inc/node / jose from npm), the doc examples,
#   both crates packaged and built from their packages (scripts/package.sh, with the MSRV),
#   and the Playwright suites driving the demo and examples/start-axum in Chromium, each
#   built and served by scripts/site.py.
# It runs scripts/setup.sh first (a second or two when everything is installed).
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
# One feature set for the whole workspace, so clippy, the tests, the doc examples and the
# end-to-end servers share one build of every dependency.
FEATURES=authkit-leptos/cli,authkit-leptos/redis,authkit-demo/ssr,start-axum/ssr
export AUTHKIT_TEST_BUILD="--workspace --features $FEATURES"
# Leptos reads LEPTOS_OUTPUT_NAME when it compiles (`option_env!`: without it a server's
# HydrationScripts ask for `<name>_bg.wasm`), and cargo rebuilds everything above leptos when it
# changes. Set (to any name: the servers get theirs at run time) for every build here, the
# end-to-end steps reuse the test build instead of compiling the workspace again.
eval "$(python3 scripts/site.py env --package authkit-demo | grep '^export LEPTOS_OUTPUT_NAME=')"

step "cargo fmt --check"
cargo fmt --all --check

step "clippy (server side, all features, all targets)"
# start-axum/soak: the example's task counter for scripts/soak.sh (SOAK_APP=example), only
# checked here; it changes nothing the other steps build but the example itself.
cargo clippy --workspace --all-targets --features "$FEATURES,start-axum/soak" -- -D warnings

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
# shellcheck disable=SC2086  # AUTHKIT_TEST_BUILD is a list of arguments
cargo nextest run $AUTHKIT_TEST_BUILD --no-fail-fast 2>&1 | tee "$LOG_DIR/nextest.log"

step "doc examples (cargo test --doc)"
# shellcheck disable=SC2086
cargo test --doc $AUTHKIT_TEST_BUILD 2>&1 | tee "$LOG_DIR/doctest.log"

step "packages (cargo package, both crates; built from the packages with the declared rust-version)"
bash scripts/package.sh

step "end-to-end (the demo, built by scripts/site.py, and Playwright in Chromium)"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
LEPTOS_SITE_ADDR="127.0.0.1:$(free_port)" LEPTOS_RELOAD_PORT="$(free_port)" \
  AUTHKIT_DEMO_EMULATOR_PORT="$(free_port)" E2E_ARTIFACTS="$ROOT/target/e2e-artifacts" \
  python3 scripts/site.py end-to-end --package authkit-demo \
    --server-from-test-build "$AUTHKIT_TEST_BUILD" 2>&1 | tee "$LOG_DIR/e2e.log"

step "examples/start-axum end-to-end (its own WorkOS emulator, as its README runs it)"
E2E_ARTIFACTS="$ROOT/target/e2e-artifacts" bash scripts/example-e2e.sh 2>&1 | tee "$LOG_DIR/example-e2e.log"

# One closing line over both runners.
rust_passed=$(sed -n 's/.* tests run: \([0-9]*\) passed.*/\1/p' "$LOG_DIR/nextest.log" | tail -1)
doc_passed=$(sed -n 's/^test result: ok\. \([0-9]*\) passed.*/\1/p' "$LOG_DIR/doctest.log" | awk '{ s += $1 } END { print s + 0 }')
e2e_passed=$(cat "$LOG_DIR/e2e.log" "$LOG_DIR/example-e2e.log" | sed -n 's/^ *\([0-9][0-9]*\) passed.*/\1/p' | awk '{ s += $1 } END { print s + 0 }')
printf '\nall tests green in %ss (nextest %s, doc examples %s, Playwright %s; both crates packaged)\n' "$((SECONDS - t0))" "${rust_passed:-?}" "${doc_passed:-?}" "${e2e_passed:-?}"
printf '%s passed, 0 failed\n' "$(( ${rust_passed:-0} + ${doc_passed:-0} + ${e2e_passed:-0} ))"
