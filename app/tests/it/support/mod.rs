//! The workspace's shared test code (`tests/it/support/`), included by path: the token
//! attack table and its keys, the `tracing` capture, and where the checkout is.
#![allow(unreachable_pub, dead_code)]

#[path = "../../../../tests/it/support/attack.rs"]
pub mod attack;
#[path = "../../../../tests/it/support/capture.rs"]
pub mod capture;
#[path = "../../../../tests/it/support/checkout.rs"]
pub mod checkout;
#[path = "../../../../tests/it/support/token.rs"]
pub mod token;
