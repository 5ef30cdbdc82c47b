//! Configuration and tooling: what is refused at start-up (and how the error names the
//! fix), the `authkit` command-line tool, and the `testing` helpers for users' tests.

mod cli;
mod keyless;
mod rotation;
mod start_up;
mod testing;
