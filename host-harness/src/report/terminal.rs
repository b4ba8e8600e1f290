//! Live output, in the Kinode terminal's format: a process's print shows
//! as `{package}:{publisher}: text`, kernel lines bare, each only when its
//! verbosity is at most the terminal's (0 always, 1 debug, 2 runtime info,
//! 3 every message). The real terminal also prefixes the time; we don't.
//! With several nodes in a run each line starts with its node, `[a.os] `.

use std::io::{IsTerminal, Write};
use std::sync::OnceLock;

#[derive(Debug, Clone, Default)]
pub struct Terminal {
    pub verbosity: u8,
    /// Print nothing (tests read the report instead).
    pub quiet: bool,
    /// Put before every line: the node's name when a run has several.
    pub prefix: String,
}

impl Terminal {
    pub fn print(&self, verbosity: u8, text: &str) {
        if self.quiet || verbosity > self.verbosity {
            return;
        }
        let mut out = std::io::stdout().lock();
        let text = if colour() {
            std::borrow::Cow::Borrowed(text)
        } else {
            without_colour(text)
        };
        for line in text.lines() {
            let _ = writeln!(out, "{}{line}", self.prefix);
        }
    }
}

/// Colour only on a terminal, and never under `NO_COLOR`.
fn colour() -> bool {
    static COLOUR: OnceLock<bool> = OnceLock::new();
    *COLOUR.get_or_init(|| {
        std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stdout().is_terminal()
    })
}

/// `text` without ANSI escape sequences (a node colours its error lines).
pub(crate) fn without_colour(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains('\x1b') {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\x1b' {
            out.push(c);
            continue;
        }
        // CSI: ESC [ parameters... final byte in @..~; else ESC and one more.
        if chars.peek() == Some(&'[') {
            chars.next();
            for c in chars.by_ref() {
                if ('@'..='~').contains(&c) {
                    break;
                }
            }
        } else {
            chars.next();
        }
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn colour_codes_come_out() {
        let line = "\x1b[38;5;196mprocess a ended with error:\x1b[0m\nboom";
        assert_eq!(
            super::without_colour(line),
            "process a ended with error:\nboom"
        );
        assert_eq!(super::without_colour("plain"), "plain");
    }
}
