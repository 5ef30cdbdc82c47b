#!/usr/bin/env bash
# Runs scripts/setup.sh as a new developer machine sees it, checks what it leaves behind, and
# with --with-tests times the README's second command (./scripts/test.sh) from nothing.
#
# "From nothing":
#   * a fresh clone of this checkout's HEAD (no node_modules, no setup stamps);
#   * an empty CARGO_HOME holding only rustup's proxies (so every crate is downloaded and
#     every tool compiled again), an empty target directory (so an empty AUTHKIT_TOOLS under
#     it), an empty npm cache and global npm prefix;
#   * no cargo-nextest on PATH: this machine's /usr/local/bin/cargo-nextest is hidden (a
#     developer's machine does not come with one), so setup has to install its own;
#   * a developer's own tools of other versions already in CARGO_HOME/bin and on PATH: a
#     `cargo-leptos` 0.2.0 and a `wasm-bindgen` 0.2.100 (stand-ins that print a version). They
#     must be byte for byte and time for time the same afterwards, and not be what the
#     project's scripts use (issue #22: nothing global is replaced).
# System-wide state (Debian packages, the wasm32 std of Debian's rustc-web, rustup's
# toolchains) is whatever this machine has; on a new machine setup installs those too (the
# README gives their cost).
#
# Usage: scripts/check-fresh-setup.sh [--with-tests] [--keep DIR]
#   --with-tests  then run ./scripts/test.sh in the clone, cold (the same empty target dir)
#   --keep DIR    work in DIR and leave it there (default: a temporary directory, removed)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
keep="" with_tests=0
while [ $# -gt 0 ]; do
  case "$1" in
    --with-tests) with_tests=1 ;;
    --keep) keep="${2:?--keep needs a directory}"; shift ;;
    *) echo "usage: $0 [--with-tests] [--keep DIR]" >&2; exit 2 ;;
  esac
  shift
done
if [ -n "$keep" ]; then
  base="$keep"
  rm -rf "$base"
  mkdir -p "$base"
else
  base="$(mktemp -d "${TMPDIR:-/tmp}/authkit-fresh.XXXXXX")"
  trap 'rm -rf "$base"' EXIT
fi
log() { printf '[fresh-setup] %s\n' "$*"; }
# CPU seconds used so far by finished child processes (bash's `times`), so a figure taken while
# something else loads the machine can be told apart from one taken on a quiet machine.
# `times` runs here, in this shell (in a $(...) subshell it would see no children): the result
# goes to CPU_NOW.
cpu_now() {
  times >"$base/.times"
  CPU_NOW="$(tail -1 "$base/.times" | awk '{ s = 0; for (i = 1; i <= 2; i++) { split($i, a, /[ms]/); s += a[1] * 60 + a[2] } printf "%d", s }')"
}
load() { awk '{ print $1 }' /proc/loadavg 2>/dev/null || echo ?; }

stock="$(dirname "$(command -v rustup)")"
real_cargo_home="${CARGO_HOME:-$HOME/.cargo}"
home="$base/cargo-home"
mkdir -p "$home/bin" "$base/npm-cache" "$base/npm-global" "$base/usr-local-bin"
# Only the rustup proxies (and rustup itself): what a new machine's CARGO_HOME has.
for f in "$stock"/*; do
  if [ "$(basename "$f")" = rustup ] || [ "$(readlink "$f")" = rustup ]; then
    ln -s "$stock/rustup" "$home/bin/$(basename "$f")"
  fi
done
# The developer's own tools, other versions than the project's.
printf '#!/bin/sh\necho "cargo-leptos 0.2.0"\n' >"$home/bin/cargo-leptos"
printf '#!/bin/sh\necho "wasm-bindgen 0.2.100"\n' >"$home/bin/wasm-bindgen"
chmod +x "$home/bin/cargo-leptos" "$home/bin/wasm-bindgen"
own_tools_before="$(cd "$home/bin" && sha256sum cargo-leptos wasm-bindgen && stat -c '%n %Y %s' cargo-leptos wasm-bindgen)"
# /usr/local/bin without cargo-nextest.
for f in /usr/local/bin/*; do
  [ "$(basename "$f")" = cargo-nextest ] || ln -s "$f" "$base/usr-local-bin/$(basename "$f")"
done

git clone --quiet "$ROOT" "$base/repo"
git -C "$base/repo" checkout --quiet "$(git -C "$ROOT" rev-parse HEAD)"

clean_path=""
IFS=: read -ra parts <<<"$PATH"
for d in "${parts[@]}"; do
  case "$d" in
    "$real_cargo_home/bin" | "$stock" | */authkit-tools/* | /usr/local/lib/rust-web/*) continue ;;
    /usr/local/bin) d="$base/usr-local-bin" ;;
  esac
  clean_path="${clean_path:+$clean_path:}$d"
done
export PATH="$home/bin:$clean_path"
export CARGO_HOME="$home" CARGO_TARGET_DIR="$base/target" npm_config_cache="$base/npm-cache" \
  npm_config_prefix="$base/npm-global"
unset AUTHKIT_TOOLS CARGO_INSTALL_ROOT
export RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}"
if command -v cargo-nextest >/dev/null || cargo nextest --version >/dev/null 2>&1; then
  log "FAILED: a cargo-nextest is still on PATH: $(command -v cargo-nextest)"; exit 1
fi
log "CARGO_HOME=$CARGO_HOME ($(ls "$CARGO_HOME/bin" | tr '\n' ' '))"
log "CARGO_TARGET_DIR=$CARGO_TARGET_DIR (empty); stock toolchain: $(rustc --version)"

cpu_now
t0=$SECONDS c0=$CPU_NOW l0=$(load)
bash "$base/repo/scripts/setup.sh"
cpu_now
cold=$((SECONDS - t0)) cold_cpu=$((CPU_NOW - c0))
t1=$SECONDS
bash "$base/repo/scripts/setup.sh" >/dev/null
warm=$((SECONDS - t1))

# What the README's commands need, from the locations setup filled.
tools="$base/target/authkit-tools"
(
  # shellcheck source=/dev/null
  . "$base/repo/scripts/env.sh"
  fail=0
  check() { # description, command...
    local what=$1
    shift
    if out="$("$@" 2>&1)"; then log "ok: $what: ${out%%$'\n'*}"; else log "FAILED: $what: $out"; fail=1; fi
  }
  pin="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$base/repo/Cargo.lock")"
  check "AUTHKIT_TOOLS is under the target dir" test "$AUTHKIT_TOOLS" = "$tools"
  check "wasm-bindgen $pin from AUTHKIT_TOOLS first on PATH" bash -c "[ \"\$(command -v wasm-bindgen)\" = '$tools/bin/wasm-bindgen' ] && wasm-bindgen --version | grep -qw '$pin' && wasm-bindgen --version"
  check "cargo-nextest installed into AUTHKIT_TOOLS" bash -c "[ \"\$(command -v cargo-nextest)\" = '$tools/bin/cargo-nextest' ] && cargo nextest --version | head -1"
  check "wasm-opt in AUTHKIT_TOOLS/node" bash -c "[ \"\$(command -v wasm-opt)\" = '$tools/node/node_modules/.bin/wasm-opt' ] && wasm-opt --version"
  check "no cargo-leptos installed by setup" bash -c "! ls '$tools/bin' | grep -q leptos && echo none"
  check "the developer's cargo-leptos and wasm-bindgen untouched" bash -c "cd '$home/bin' && [ \"\$(sha256sum cargo-leptos wasm-bindgen && stat -c '%n %Y %s' cargo-leptos wasm-bindgen)\" = '$own_tools_before' ] && ./cargo-leptos && ./wasm-bindgen"
  check "nothing new in CARGO_HOME/bin" bash -c "[ \"\$(ls '$home/bin' | grep -v -e '^cargo-leptos$' -e '^wasm-bindgen$' | while read -r f; do [ -L '$home/bin/'\$f ] || echo \$f; done)\" = '' ] && echo only rustup proxies and the two stand-ins"
  check "nothing in the global npm prefix" bash -c "[ -z \"\$(ls -A '$base/npm-global')\" ] && echo empty"
  check "wasm32 target builds" bash -c "printf '#![no_std]\npub fn f() -> u32 { 1 }\n' > '$base/t.rs' && rustc --crate-type=lib --edition 2021 --target wasm32-unknown-unknown -o '$base/t.rlib' '$base/t.rs' && rustc --version"
  check "clippy matches the compiler" bash -c "cargo clippy --version"
  check "Playwright in end2end/" test -d "$base/repo/end2end/node_modules/@playwright/test"
  check "iron-session in tests/interop/" test -d "$base/repo/tests/interop/node_modules/iron-session"
  check "chromium" bash -c "\"\${CHROMIUM_PATH:-/usr/bin/chromium}\" --version 2>/dev/null"
  check "redis-server" bash -c "redis-server --version"
  check "wrk" bash -c "wrk --version 2>&1 | head -1 | grep -q '^wrk' && wrk --version 2>&1 | head -1"
  exit "$fail"
) || { log "FAILED"; exit 1; }
log "cold setup ${cold}s (CPU ${cold_cpu}s; load average at the start ${l0}), second run ${warm}s"

if [ "$with_tests" = 1 ]; then
  log "README command 2 in the fresh clone, cold target dir: ./scripts/test.sh"
  cpu_now
  t2=$SECONDS c2=$CPU_NOW l2=$(load)
  set +e
  (cd "$base/repo" && ./scripts/test.sh) >"$base/test.log" 2>&1
  test_rc=$?
  set -e
  grep -E '^==> |^\[setup\] .*done in|passed|FAIL' "$base/test.log" || true
  cpu_now
  tests=$((SECONDS - t2)) tests_cpu=$((CPU_NOW - c2))
  tail -3 "$base/test.log"
  [ "$test_rc" = 0 ] || { log "FAILED: ./scripts/test.sh exited $test_rc (log: $base/test.log)"; exit 1; }
  # And setup's promise still holds after a whole test run.
  [ "$(cd "$home/bin" && sha256sum cargo-leptos wasm-bindgen && stat -c '%n %Y %s' cargo-leptos wasm-bindgen)" = "$own_tools_before" ] \
    || { log "FAILED: the developer's cargo-leptos / wasm-bindgen changed during the test run"; exit 1; }
  log "cold test run ${tests}s (CPU ${tests_cpu}s; load average at the start ${l2}, at the end $(load))"
  log "README command 2 from nothing: $((cold + tests))s (setup ${cold}s + tests ${tests}s)"
fi
log "fresh-machine setup OK"
