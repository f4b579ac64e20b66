//! The build script's rewrites of progenitor's output, tested on the shapes of typify's code they
//! were written for (the tests are in `build/rewrite.rs`, beside the rewrites).

#[path = "../build/rewrite.rs"]
mod rewrite;
