//! Errors in what the user gave the harness: a package directory, a flag.
//! Each names the file (and field) at fault; the CLI exits 2 on them.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("{}: cannot read: {source}", shown(&path.display().to_string()))]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: {}", shown(&path.display().to_string()), shown(reason))]
    Invalid { path: PathBuf, reason: String },
}

/// Text from the user's input as an error shows it: control characters
/// (a bell, a colour, a right-to-left override) escaped, lines kept.
fn shown(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            let hidden = (c.is_control() && c != '\n')
                || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
            let escaped: Vec<char> = if hidden {
                c.escape_unicode().collect()
            } else {
                vec![c]
            };
            escaped
        })
        .collect()
}

impl InputError {
    pub fn invalid(path: impl Into<PathBuf>, reason: impl Into<String>) -> Self {
        InputError::Invalid {
            path: path.into(),
            reason: reason.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_in_input_are_shown_escaped() {
        let err = InputError::invalid("pk\u{7}g", "name `\u{202e}evil` is bad");
        assert_eq!(err.to_string(), "pk\\u{7}g: name `\\u{202e}evil` is bad");
    }
}
