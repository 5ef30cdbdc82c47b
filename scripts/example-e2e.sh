#!/usr/bin/env bash
# Runs examples/start-axum's Playwright tests the way its README tells a user to run the app:
# the built-in WorkOS (`workos-emulator`) on a free loopback port, its printed WORKOS_*
# settings (redirect URI for the app's address, a fresh cookie password) in the app's
# environment, and the app built and served as `cargo leptos end-to-end` does it, by
# scripts/site.py (from the test build when scripts/test.sh says which: AUTHKIT_TEST_BUILD).
# Called by scripts/test.sh after setup; stops the emulator whatever happens.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
SITE_PORT="$(free_port)"
export LEPTOS_SITE_ADDR="127.0.0.1:$SITE_PORT" LEPTOS_RELOAD_PORT="$(free_port)"

cargo build --quiet -p workos-emulator --features cli --bin workos-emulator
SETTINGS="$(mktemp)"
trap 'kill "$EMULATOR_PID" 2>/dev/null || true; wait "$EMULATOR_PID" 2>/dev/null || true; rm -f "$SETTINGS"' EXIT
"$TARGET/debug/workos-emulator" --port 0 --app-url "http://$LEPTOS_SITE_ADDR" --json >"$SETTINGS" &
EMULATOR_PID=$!
for _ in $(seq 100); do [ -s "$SETTINGS" ] && break; sleep 0.1; done
[ -s "$SETTINGS" ] || { echo "example-e2e: workos-emulator printed nothing" >&2; exit 1; }
# The `env` object of the emulator's JSON line, as `export K=V` lines.
eval "$(python3 -c 'import json,shlex,sys; [print(f"export {k}={shlex.quote(v)}") for k,v in json.load(open(sys.argv[1]))["env"].items()]' "$SETTINGS")"

cd "$ROOT"
python3 scripts/site.py end-to-end --package start-axum \
  ${AUTHKIT_TEST_BUILD:+--server-from-test-build "$AUTHKIT_TEST_BUILD"}
