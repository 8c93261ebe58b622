//! Dialtone desktop shell.
pub fn run() {}
