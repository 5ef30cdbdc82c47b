# Source after scripts/setup.sh:  . scripts/env.sh
# Puts the tools scripts/setup.sh installed first on PATH, for this shell only:
#   $AUTHKIT_TOOLS/bin                   wasm-bindgen (Cargo.lock's pin), cargo-nextest if setup installed it
#   $AUTHKIT_TOOLS/node/node_modules/.bin  wasm-opt
#   $AUTHKIT_TOOLS/rust-web/bin          Debian's rustc-web cargo/rustc/clippy, only where setup chose
#                                        that toolchain (setup.env says); else rustup's stays as it is
# AUTHKIT_TOOLS defaults to ${CARGO_TARGET_DIR:-<repo>/target}/authkit-tools, as in setup.sh.
# Also exports CHROMIUM_PATH when setup found Chromium somewhere other than /usr/bin/chromium.
_authkit_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
AUTHKIT_TOOLS="${AUTHKIT_TOOLS:-${CARGO_TARGET_DIR:-$_authkit_root/target}/authkit-tools}"
export AUTHKIT_TOOLS
AUTHKIT_RUST_BIN=""
if [ -f "$AUTHKIT_TOOLS/setup.env" ]; then
  # shellcheck source=/dev/null
  . "$AUTHKIT_TOOLS/setup.env"
fi
[ -z "${CHROMIUM_PATH:-}" ] || export CHROMIUM_PATH
_authkit_path="$AUTHKIT_TOOLS/bin:$AUTHKIT_TOOLS/node/node_modules/.bin${AUTHKIT_RUST_BIN:+:$AUTHKIT_RUST_BIN}"
case ":$PATH:" in
  *":$_authkit_path:"*) ;;
  *) PATH="$_authkit_path:$PATH" ;;
esac
export PATH
unset _authkit_root _authkit_path
