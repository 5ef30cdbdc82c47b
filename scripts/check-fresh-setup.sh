#!/usr/bin/env bash
# Runs scripts/setup.sh as a new machine sees it, and checks what it leaves behind.
#
#   * a fresh clone of this repository's HEAD (no node_modules, no setup stamps);
#   * an empty CARGO_HOME holding only the machine's stock toolchain proxies (rustup's),
#     an empty CARGO_INSTALL_ROOT, an empty npm prefix (AUTHKIT_NODE_PREFIX) and npm cache;
#   * PATH without the real cargo home and npm prefix, so nothing installed there is seen.
#
# System-wide steps (Debian packages, the wasm32 std in rustc-web's sysroot) are whatever
# this machine has; on a new machine they run as part of the timed setup too.
# Then it checks that every tool runs at its pinned version, that a second setup run is
# a no-op, and prints the cold and warm times.
#
# Usage: scripts/check-fresh-setup.sh [--keep DIR]   (--keep: work in DIR and leave it)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
keep=""
if [ "${1:-}" = --keep ]; then keep="${2:?--keep needs a directory}"; fi
if [ -n "$keep" ]; then
  base="$keep"
  rm -rf "$base"
  mkdir -p "$base"
else
  base="$(mktemp -d "${TMPDIR:-/tmp}/authkit-fresh.XXXXXX")"
  trap 'rm -rf "$base"' EXIT
fi
log() { printf '[fresh-setup] %s\n' "$*"; }

stock="$(dirname "$(command -v rustup)")"
real_cargo_home="${CARGO_HOME:-$HOME/.cargo}"
mkdir -p "$base/cargo-home/bin" "$base/install" "$base/node" "$base/npm-cache"
# Only the rustup proxies (and rustup itself): what a new machine's CARGO_HOME has.
for f in "$stock"/*; do
  if [ "$(basename "$f")" = rustup ] || [ "$(readlink "$f")" = rustup ]; then
    ln -s "$stock/rustup" "$base/cargo-home/bin/$(basename "$f")"
  fi
done
git clone --quiet "$ROOT" "$base/repo"

clean_path=""
IFS=: read -ra parts <<<"$PATH"
for d in "${parts[@]}"; do
  case "$d" in
    "$real_cargo_home/bin" | "$stock" | /usr/local/lib/rust-web/node/*) continue ;;
  esac
  clean_path="${clean_path:+$clean_path:}$d"
done
export PATH="$base/cargo-home/bin:$clean_path"
export CARGO_HOME="$base/cargo-home" CARGO_INSTALL_ROOT="$base/install" \
  AUTHKIT_NODE_PREFIX="$base/node" npm_config_cache="$base/npm-cache"
export RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}"
log "CARGO_HOME=$CARGO_HOME (proxies: $(ls "$CARGO_HOME/bin" | tr '\n' ' '))"
log "stock toolchain: $(rustc --version)"

t0=$SECONDS
bash "$base/repo/scripts/setup.sh"
cold=$((SECONDS - t0))
t1=$SECONDS
bash "$base/repo/scripts/setup.sh" >/dev/null
warm=$((SECONDS - t1))

# What the README's commands need, from the locations setup filled.
# shellcheck source=/dev/null
. "$base/repo/scripts/env.sh"
fail=0
check() { # description, command...
  local what=$1
  shift
  if out="$("$@" 2>&1)"; then log "ok: $what: ${out%%$'\n'*}"; else log "FAILED: $what: $out"; fail=1; fi
}
pin="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$base/repo/Cargo.lock")"
check "wasm-bindgen $pin in CARGO_INSTALL_ROOT" bash -c "[ \"\$(command -v wasm-bindgen)\" = '$base/install/bin/wasm-bindgen' ] && wasm-bindgen --version | grep -qw '$pin' && wasm-bindgen --version"
check "cargo-leptos in CARGO_INSTALL_ROOT" bash -c "[ \"\$(command -v cargo-leptos)\" = '$base/install/bin/cargo-leptos' ] && cargo-leptos --version"
check "wasm-opt in the npm prefix" bash -c "[ \"\$(command -v wasm-opt)\" = '$base/node/node_modules/.bin/wasm-opt' ] && wasm-opt --version"
check "cargo is the Debian toolchain" bash -c "cargo --version | grep -q '1\.96' && cargo --version"
check "wasm32 target builds" bash -c "printf '#![no_std]\npub fn f() -> u32 { 1 }\n' > '$base/t.rs' && rustc --crate-type=lib --edition 2021 --target wasm32-unknown-unknown -o '$base/t.rlib' '$base/t.rs' && echo built"
check "clippy matches the compiler" bash -c "cargo clippy --version"
check "Playwright in end2end/" test -d "$base/repo/end2end/node_modules/@playwright/test"
check "iron-session in tests/interop/" test -d "$base/repo/tests/interop/node_modules/iron-session"
check "chromium" bash -c "/usr/bin/chromium --version 2>/dev/null"
check "redis-server" bash -c "redis-server --version"
check "wrk" bash -c "wrk --version 2>&1 | head -1 | grep -q '^wrk' && wrk --version 2>&1 | head -1"
log "cold setup ${cold}s, second run ${warm}s"
if [ "$fail" != 0 ]; then log "FAILED"; exit 1; fi
log "fresh-machine setup OK"
