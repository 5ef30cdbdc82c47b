#!/usr/bin/env bash
# Runs the demo app on http://127.0.0.1:3000 (override with LEPTOS_SITE_ADDR).
# With no WorkOS connection variable in the environment it signs in against the built-in
# WorkOS emulator and prints the users to sign in as; with the WORKOS_* variables it talks
# to WorkOS (and refuses to start when only some of them are set).
# Built and started by scripts/site.py (what `cargo leptos serve` does for this app, without
# having to compile cargo-leptos first; its header says why). No file watching: after an edit,
# stop it and run this again (the rebuild is incremental).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/setup.sh
# shellcheck source=/dev/null
. scripts/env.sh
exec python3 scripts/site.py serve --package authkit-demo "$@"
