//! Access tokens: verification against a JWKS, the key set as the layer fetches it (once,
//! and again after a rotation), and forged, tampered, stale or foreign tokens end to end.

mod attacks;
mod issuer;
mod keys;
mod verify;
