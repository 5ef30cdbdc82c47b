//! WorkOS: the client on the wire against a stub, and WorkOS faults through the real
//! router with the emulator's fault injection.

mod client;
mod faults;
