#!/usr/bin/env bash
# Installs everything authkit-leptos needs to build, run and test, from the package
# registries only (Debian, crates, npm). Idempotent: a second run takes about a second.
#
#   1. Debian: rustc-web/cargo-web 1.96 (a second Rust toolchain in /usr/bin) with its
#      std sources, linker (rust-web-llvm + lld-22) and clippy, plus chromium for the
#      end-to-end tests, redis-server for the shared-refresh tests (which start their
#      own on a free loopback port) and wrk for scripts/bench.sh.
#   2. The wasm32-unknown-unknown std, compiled once from those sources into rustc-web's
#      sysroot: afterwards `cargo build --target wasm32-unknown-unknown` works as if the
#      target had been added with rustup (which this machine cannot download from).
#      On a machine whose rustup can download, AUTHKIT_USE_RUSTUP=1 instead runs
#      `rustup target add wasm32-unknown-unknown` and skips steps 1-3 (chromium aside);
#      scripts/env.sh then leaves rustup's toolchain first on PATH.
#   3. /usr/local/lib/rust-web/bin: cargo/rustc/rustdoc/cargo-clippy/clippy-driver links
#      to that toolchain; scripts/env.sh puts it first on PATH.
#   4. cargo install, each tool from its lockfile (--locked) and built by a toolchain
#      that meets the highest rust-version in that lockfile, chosen by reading it (not by
#      whichever cargo is first on PATH): wasm-bindgen-cli at exactly the version pinned in
#      Cargo.lock (with the committed scripts/tools/ lockfile: its published one names a
#      crate version the registry does not serve), and cargo-leptos with `no_downloads`
#      (it then takes wasm-bindgen, wasm-opt and sass from PATH and never downloads
#      anything; its lockfile needs rustc 1.96, so the Debian toolchain builds it).
#      cargo-leptos takes ~16 min to compile on 2 cores: installed once, skipped when present.
#   5. npm: binaryen (wasm-opt, for release builds) into /usr/local/lib/rust-web/node
#      (AUTHKIT_NODE_PREFIX), and
#      the project's own node packages (end2end/: Playwright, no browser download;
#      tests/interop/: iron-session, @workos-inc/node, jose) with `npm ci`.
#
# Knobs: CARGO_LEPTOS_VERSION, BINARYEN_VERSION; SKIP_CARGO_LEPTOS=1, SKIP_CHROMIUM=1;
# install locations CARGO_INSTALL_ROOT (else CARGO_HOME, else ~/.cargo) and AUTHKIT_NODE_PREFIX.
# scripts/check-fresh-setup.sh runs this script with all of them empty, as a new machine has them.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CARGO_LEPTOS_VERSION="${CARGO_LEPTOS_VERSION:-0.3.11}"
BINARYEN_VERSION="${BINARYEN_VERSION:-132.0.0}"
RUST_WEB_BIN=/usr/local/lib/rust-web/bin
# Where tools go: cargo's own install root (CARGO_INSTALL_ROOT, else CARGO_HOME) and an npm
# prefix; scripts/check-fresh-setup.sh points all three at empty directories.
TOOL_ROOT="${CARGO_INSTALL_ROOT:-${CARGO_HOME:-$HOME/.cargo}}"
NODE_DIR="${AUTHKIT_NODE_PREFIX:-/usr/local/lib/rust-web/node}"
# The machine's stock toolchain (rustup's proxies), found before this script changes PATH.
STOCK_CARGO_BIN="$(dirname "$(command -v rustup 2>/dev/null || command -v cargo 2>/dev/null || echo /nonexistent/x)")"
[ -x "$STOCK_CARGO_BIN/cargo" ] || STOCK_CARGO_BIN=""
APT_PACKAGES=(rustc-web cargo-web rust-web-src rust-web-llvm rust-web-clippy lld-22)
USE_RUSTUP="${AUTHKIT_USE_RUSTUP:-0}"
if [ "$USE_RUSTUP" = 1 ]; then APT_PACKAGES=(); fi
if [ "${SKIP_CHROMIUM:-0}" != 1 ]; then APT_PACKAGES+=(chromium); fi
# The shared-refresh tests start their own redis-server (never the system service);
# scripts/bench.sh drives the demo with wrk.
APT_PACKAGES+=(redis-server wrk)

# The wasm-bindgen CLI must equal the wasm-bindgen crate exactly; read the pin from the lockfile.
WASM_BINDGEN_VERSION="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$ROOT/Cargo.lock")"
if [ -z "$WASM_BINDGEN_VERSION" ]; then echo "[setup] ERROR: wasm-bindgen not found in Cargo.lock" >&2; exit 1; fi

log() { printf '[setup] %s\n' "$*"; }
t0=$SECONDS
step_t0=$SECONDS
step_start() { step_t0=$SECONDS; log "$*"; }
step_done() { log "  done in $((SECONDS - step_t0))s"; }
have_version() { # $1 = command, $2 = version; true if `$1 --version` shows it as a word
  local out
  out="$("$1" --version 2>/dev/null || true)"
  [[ " $out " == *" $2 "* ]]
}
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

# ------------------------------------------------------------------ 1. apt
missing=()
for p in "${APT_PACKAGES[@]+"${APT_PACKAGES[@]}"}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
if [ "${#missing[@]}" -gt 0 ]; then
  step_start "apt-get install ${missing[*]}"
  $SUDO apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  step_done
else
  log "apt packages present"
fi
if [ "$USE_RUSTUP" = 1 ]; then
  step_start "rustup target add wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
  rustup component add clippy rustfmt
  step_done
else
if ! rust-lld -flavor wasm --version >/dev/null 2>&1; then
  log "ERROR: rust-lld (-> lld-22) is not usable"; exit 1
fi

# ------------------------------------------------------------------ 2. PATH shim
for t in cargo rustc rustdoc cargo-clippy clippy-driver; do
  if [ "$(readlink "$RUST_WEB_BIN/$t" 2>/dev/null)" != "/usr/bin/$t" ]; then
    $SUDO mkdir -p "$RUST_WEB_BIN"
    $SUDO ln -sfn "/usr/bin/$t" "$RUST_WEB_BIN/$t"
    log "linked $RUST_WEB_BIN/$t -> /usr/bin/$t"
  fi
done
export PATH="$RUST_WEB_BIN:$PATH"
log "using $(rustc --version)"

# ------------------------------------------------------------------ 3. wasm32 std
SYSROOT="$(rustc --print sysroot)"
WASM_DIR="$SYSROOT/lib/rustlib/wasm32-unknown-unknown"
STAMP="$WASM_DIR/rust-web-std.stamp"
# Recipe id: bump it when the build below changes, so machines rebuild.
want_stamp="$(printf 'recipe 2\n'; rustc -vV; dpkg-query -W -f='rustc-web ${Version}\n' rustc-web 2>/dev/null || true)"
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want_stamp" ] && compgen -G "$WASM_DIR/lib/libstd-*.rlib" >/dev/null; then
  log "wasm32-unknown-unknown std present"
else
  step_start "building std for wasm32-unknown-unknown (one time, ~45 s)"
  src="$SYSROOT/lib/rustlib/src/rust/library"
  if [ ! -f "$src/sysroot/Cargo.toml" ]; then log "ERROR: std sources not found at $src"; exit 1; fi
  # A fixed path plus --remap-path-prefix makes the build reproducible, so a rebuild keeps
  # the crate hashes that existing target dirs were compiled against.
  work=/tmp/rust-web-wasm32-std
  rm -rf "$work"
  mkdir -p "$work"
  trap 'rm -rf "$work"' EXIT
  cp -a "$src/." "$work/library/"
  commit="$(rustc -vV | sed -n 's/^commit-hash: //p')"
  # As the Rust build does for a shipped std: the library workspace's `dist` profile
  # (-Cembed-bitcode=yes so user LTO works, -Cpanic=abort for panic_abort).
  (
    cd "$work/library"
    RUSTC_BOOTSTRAP=1 \
    __CARGO_DEFAULT_LIB_METADATA=rust-web-wasm32-std \
    RUSTFLAGS="-Zforce-unstable-if-unmarked --remap-path-prefix=$work/library=/rustc/$commit/library --remap-path-prefix=${CARGO_HOME:-$HOME/.cargo}/registry/src=/rust/deps" \
    CARGO_TARGET_DIR="$work/target" \
      cargo build --locked --quiet --profile dist --target wasm32-unknown-unknown \
        --manifest-path sysroot/Cargo.toml 2>&1 | grep -v -e "dropping unsupported crate type .dylib." -e "^$" || true
  )
  if ! compgen -G "$work/target/wasm32-unknown-unknown/dist/deps/libstd-*.rlib" >/dev/null; then
    log "ERROR: the wasm32 std build produced no libstd"; exit 1
  fi
  $SUDO rm -rf "$WASM_DIR/lib"
  $SUDO mkdir -p "$WASM_DIR/lib"
  for f in "$work"/target/wasm32-unknown-unknown/dist/deps/lib*.rlib; do
    case "$(basename "$f")" in libsysroot-*) continue ;; esac
    $SUDO cp "$f" "$WASM_DIR/lib/"
  done
  printf '%s\n' "$want_stamp" | $SUDO tee "$STAMP" >/dev/null
  rm -rf "$work"
  trap - EXIT
  step_done
  log "  note: wasm target dirs built against another std fail with E0463; remove target/front once"
fi
fi # USE_RUSTUP
export PATH="$TOOL_ROOT/bin:$PATH"

# ------------------------------------------------------------------ 4. cargo tools
# Every tool is built from its lockfile (--locked) by a toolchain named here, never by
# whichever `cargo` happens to come first on PATH: the rust-version of every package in
# the tool's lockfile is read first, and the tool is built by the first candidate
# toolchain (Debian's rustc-web, then the machine's stock rustup one) that satisfies the
# highest of them -- or setup stops, naming the package and the version it needs.
# A tool whose published lockfile cannot be used as it is (it names a crate version the
# registry does not serve) gets a committed lockfile, scripts/tools/NAME-VERSION.Cargo.lock.
TOOL_TOOLCHAINS=()
if [ "$USE_RUSTUP" != 1 ]; then TOOL_TOOLCHAINS+=("$RUST_WEB_BIN"); fi
if [ -n "$STOCK_CARGO_BIN" ]; then TOOL_TOOLCHAINS+=("$STOCK_CARGO_BIN"); fi
version_ge() { # $1 >= $2, dotted versions
  [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -1)" = "$2" ]
}
# cargo_install_tool NAME VERSION [cargo install args...]
cargo_install_tool() {
  local name=$1 version=$2
  shift 2
  local work fetch src lock needs needs_pkg bin chosen="" have
  work="$(mktemp -d "${TMPDIR:-/tmp}/authkit-tool-$name.XXXXXX")"
  # The tool's published source, unpacked by cargo (a throwaway manifest that depends on it).
  fetch="$work/fetch"
  mkdir -p "$fetch/src"
  : >"$fetch/src/lib.rs"
  printf '[package]\nname = "authkit-tool-fetch"\nversion = "0.0.0"\nedition = "2021"\npublish = false\n[workspace]\n[dependencies]\n%s = "=%s"\n' \
    "$name" "$version" >"$fetch/Cargo.toml"
  src="$(cd "$fetch" && "${TOOL_TOOLCHAINS[0]}/cargo" metadata --quiet --format-version 1 \
    | python3 -c 'import json,sys,os; n=sys.argv[1]; print(next(os.path.dirname(p["manifest_path"]) for p in json.load(sys.stdin)["packages"] if p["name"]==n))' "$name")"
  cp -a "$src" "$work/src"
  lock="$ROOT/scripts/tools/$name-$version.Cargo.lock"
  if [ -f "$lock" ]; then cp "$lock" "$work/src/Cargo.lock"; log "  lockfile: scripts/tools/$(basename "$lock")"; fi
  # The highest rust-version any package of the locked build declares.
  read -r needs needs_pkg < <("${TOOL_TOOLCHAINS[0]}/cargo" metadata --quiet --locked --format-version 1 \
      --manifest-path "$work/src/Cargo.toml" --filter-platform "$("${TOOL_TOOLCHAINS[0]}/rustc" -vV | sed -n 's/^host: //p')" \
    | python3 -c '
import json, sys
best = ("0", "-")
key = lambda v: [int(x) for x in v.split(".")]
for p in json.load(sys.stdin)["packages"]:
    v = p.get("rust_version")
    if v and key(v) > key(best[0]):
        best = (v, p["name"] + "@" + p["version"])
print(*best)')
  for bin in "${TOOL_TOOLCHAINS[@]}"; do
    have="$("$bin/rustc" --version | awk '{print $2}')"
    if version_ge "${have%%-*}" "$needs"; then chosen=$bin; break; fi
  done
  if [ -z "$chosen" ]; then
    log "ERROR: $name $version needs rustc >= $needs ($needs_pkg); none of these toolchains has it: ${TOOL_TOOLCHAINS[*]}"
    rm -rf "$work"
    return 1
  fi
  log "  built by $("$chosen/rustc" --version) from $chosen (needs >= $needs: $needs_pkg)"
  PATH="$chosen:$PATH" CARGO="$chosen/cargo" RUSTC="$chosen/rustc" RUSTDOC="$chosen/rustdoc" \
    CARGO_TARGET_DIR="$work/target" \
    "$chosen/cargo" install --quiet --force --locked --root "$TOOL_ROOT" --path "$work/src" "$@"
  rm -rf "$work"
}

if have_version "$TOOL_ROOT/bin/wasm-bindgen" "$WASM_BINDGEN_VERSION"; then
  log "wasm-bindgen $WASM_BINDGEN_VERSION present"
else
  step_start "cargo install wasm-bindgen-cli $WASM_BINDGEN_VERSION (~3 min)"
  cargo_install_tool wasm-bindgen-cli "$WASM_BINDGEN_VERSION"
  step_done
fi

if [ "${SKIP_CARGO_LEPTOS:-0}" = 1 ]; then
  log "cargo-leptos skipped (SKIP_CARGO_LEPTOS=1)"
elif have_version "$TOOL_ROOT/bin/cargo-leptos" "$CARGO_LEPTOS_VERSION"; then
  log "cargo-leptos $CARGO_LEPTOS_VERSION present"
else
  step_start "cargo install cargo-leptos $CARGO_LEPTOS_VERSION --features no_downloads (~16 min, once)"
  # Its release profile is fat LTO + 1 codegen unit (a ~10 min single-core link); a
  # build tool does not need that.
  CARGO_PROFILE_RELEASE_LTO=off CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 CARGO_PROFILE_RELEASE_OPT_LEVEL=1 \
    cargo_install_tool cargo-leptos "$CARGO_LEPTOS_VERSION" --features no_downloads
  step_done
fi

# ------------------------------------------------------------------ 5. npm
npm_bin="$NODE_DIR/node_modules/.bin"
if have_version "$npm_bin/wasm-opt" "${BINARYEN_VERSION%%.*}"; then
  log "wasm-opt $BINARYEN_VERSION present"
else
  step_start "npm install binaryen@$BINARYEN_VERSION (prefix $NODE_DIR)"
  $SUDO mkdir -p "$NODE_DIR"
  $SUDO npm install --prefix "$NODE_DIR" --no-fund --no-audit --save-exact --loglevel=error "binaryen@$BINARYEN_VERSION" >/dev/null
  step_done
fi

for dir in end2end examples/start-axum/end2end tests/interop; do
  lock="$ROOT/$dir/package-lock.json"
  stamp="$ROOT/$dir/node_modules/.authkit-setup-stamp"
  want="$(sha256sum "$lock" | cut -d' ' -f1)"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    log "npm packages present in $dir"
  else
    step_start "npm ci in $dir"
    (cd "$ROOT/$dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-fund --no-audit --loglevel=error >/dev/null)
    printf '%s\n' "$want" >"$stamp"
    step_done
  fi
done

if [ "${SKIP_CHROMIUM:-0}" != 1 ] && ! [ -x /usr/bin/chromium ]; then
  log "ERROR: /usr/bin/chromium missing after apt"; exit 1
fi
log "ready in $((SECONDS - t0))s: $(wasm-bindgen --version)$(command -v cargo-leptos >/dev/null && printf ', %s' "$(cargo-leptos --version)")"
