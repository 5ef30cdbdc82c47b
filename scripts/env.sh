# Source after scripts/setup.sh:  . scripts/env.sh
# Puts the Debian rustc-web toolchain (1.96, with the locally built
# wasm32-unknown-unknown std, and its clippy) first on PATH, then the cargo-installed
# tools (wasm-bindgen, cargo-leptos; CARGO_INSTALL_ROOT, else CARGO_HOME) and the
# npm-installed ones (wasm-opt; AUTHKIT_NODE_PREFIX) -- the locations scripts/setup.sh uses.
_rust_web_bin=/usr/local/lib/rust-web/bin
_tool_bin=${CARGO_INSTALL_ROOT:-${CARGO_HOME:-$HOME/.cargo}}/bin
_rust_web_node=${AUTHKIT_NODE_PREFIX:-/usr/local/lib/rust-web/node}/node_modules/.bin
if [ "${AUTHKIT_USE_RUSTUP:-0}" = 1 ]; then _rust_web_bin=${CARGO_HOME:-$HOME/.cargo}/bin; fi
case ":$PATH:" in
  *":$_rust_web_bin:"*) ;;
  *) PATH="$_rust_web_bin:$_tool_bin:${CARGO_HOME:-$HOME/.cargo}/bin:$_rust_web_node:$PATH" ;;
esac
export PATH
unset _rust_web_bin _tool_bin _rust_web_node
