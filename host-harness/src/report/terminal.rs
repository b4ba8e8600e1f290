//! Live output, in the Kinode terminal's format: a process's print shows
//! as `{package}:{publisher}: text`, kernel lines bare, each only when its
//! verbosity is at most the terminal's (0 always, 1 debug, 2 runtime info,
//! 3 every message). The real terminal also prefixes the time; we don't.

use std::io::Write;

#[derive(Debug, Clone, Copy)]
pub struct Terminal {
    pub verbosity: u8,
    /// Print nothing (tests read the report instead).
    pub quiet: bool,
}

impl Terminal {
    pub fn print(&self, verbosity: u8, text: &str) {
        if self.quiet || verbosity > self.verbosity {
            return;
        }
        let mut out = std::io::stdout().lock();
        for line in text.lines() {
            let _ = writeln!(out, "{line}");
        }
    }
}
