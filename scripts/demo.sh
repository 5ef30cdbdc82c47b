#!/usr/bin/env bash
# Runs the demo app on http://127.0.0.1:3000 (override with LEPTOS_SITE_ADDR).
# With no WorkOS connection variable in the environment it signs in against the built-in
# WorkOS emulator and prints the users to sign in as; with the WORKOS_* variables it talks
# to WorkOS (and refuses to start when only some of them are set).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/setup.sh
# shellcheck source=/dev/null
. scripts/env.sh
exec cargo leptos watch "$@"
