//! This crate and its emulator against the real JavaScript implementations, run by Node.js
//! (the npm packages in `tests/interop/`, installed by `scripts/setup.sh`).

mod iron_session;
mod workos_node;
