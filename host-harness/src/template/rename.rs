//! Renaming inside parsed files: string values in JSON and TOML, string
//! literals in Rust. Comments, keys, identifiers and layout stay as they
//! are, so nothing is renamed by accident (a `child` variable, a `parent`
//! in prose).

use proc_macro2::{TokenStream, TokenTree};

/// Old names and their replacements, applied to one string at a time.
#[derive(Debug, Default)]
pub struct Renamer {
    /// Replaced wherever they appear as a whole word: ids such as
    /// `parent:spawn:template.os`, paths such as `/child.wasm`.
    words: Vec<(String, String)>,
    /// Replaced only when they are the whole string: bare names such as
    /// `parent` (a manifest's `process_name`) or `spawn`.
    whole: Vec<(String, String)>,
}

/// Bytes that continue a name: a match must not be preceded or followed
/// by one, so `child.wasm` is not found inside `mychild.wasm`.
fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

impl Renamer {
    pub fn word(&mut self, old: impl Into<String>, new: impl Into<String>) {
        let (old, new) = (old.into(), new.into());
        if old != new {
            self.words.push((old, new));
            // Longest first, so `parent:spawn:template.os` wins over
            // `spawn:template.os` at the same position.
            self.words
                .sort_by_key(|(old, _)| std::cmp::Reverse(old.len()));
        }
    }

    pub fn whole(&mut self, old: impl Into<String>, new: impl Into<String>) {
        let (old, new) = (old.into(), new.into());
        if old != new {
            self.whole.push((old, new));
        }
    }

    /// `Some` with the renamed text if anything changed. One pass, left to
    /// right: a replacement is never looked at again.
    pub fn rename(&self, text: &str) -> Option<String> {
        if let Some((_, new)) = self.whole.iter().find(|(old, _)| old == text) {
            return Some(new.clone());
        }
        self.rename_words(text)
    }

    /// Only the whole-word renames: ids, wasm paths, spawned names, which
    /// cannot occur by accident. Used in comments and keys too.
    pub fn rename_words(&self, text: &str) -> Option<String> {
        let bytes = text.as_bytes();
        let mut out = String::with_capacity(text.len());
        let mut changed = false;
        let mut i = 0;
        while i < text.len() {
            let starts_word = i == 0 || !is_name_byte(bytes[i - 1]);
            let found = starts_word
                .then(|| {
                    self.words.iter().find(|(old, _)| {
                        text[i..].starts_with(old.as_str())
                            && bytes.get(i + old.len()).is_none_or(|&b| !is_name_byte(b))
                    })
                })
                .flatten();
            if let Some((old, new)) = found {
                out.push_str(new);
                i += old.len();
                changed = true;
            } else {
                let c = text[i..].chars().next().expect("inside the text");
                out.push(c);
                i += c.len_utf8();
            }
        }
        changed.then_some(out)
    }

    /// Renames inside the string literals of a Rust source file (found by
    /// proc-macro2's lexer, so identifiers are left alone), and the
    /// whole-word names (ids, wasm paths) in its comments.
    pub fn rust_source(&self, source: &str) -> Result<String, String> {
        let tokens: TokenStream = source
            .parse()
            .map_err(|e| format!("cannot lex as Rust: {e:?}"))?;
        let mut literals = Vec::new();
        let mut edits = Vec::new();
        self.collect_literals(tokens, source, &mut literals, &mut edits);
        for comment in comments(source, &literals) {
            if let Some(new) = self.rename_words(&source[comment.clone()]) {
                edits.push((comment, new));
            }
        }
        edits.sort_by_key(|(range, _)| range.start);
        let mut out = source.to_string();
        // Back to front, so earlier byte ranges stay valid.
        for (range, text) in edits.into_iter().rev() {
            out.replace_range(range, &text);
        }
        Ok(out)
    }

    fn collect_literals(
        &self,
        tokens: TokenStream,
        source: &str,
        literals: &mut Vec<std::ops::Range<usize>>,
        edits: &mut Vec<(std::ops::Range<usize>, String)>,
    ) {
        for token in tokens {
            match token {
                TokenTree::Group(group) => {
                    self.collect_literals(group.stream(), source, literals, edits)
                }
                TokenTree::Literal(literal) => {
                    let range = literal.span().byte_range();
                    literals.push(range.clone());
                    let text = &source[range.clone()];
                    // Doc comments reach the lexer as literals too.
                    let renamed = if text.starts_with("//") || text.starts_with("/*") {
                        self.rename_words(text)
                    } else {
                        self.string_literal(text)
                    };
                    if let Some(new) = renamed {
                        edits.push((range, new));
                    }
                }
                TokenTree::Ident(_) | TokenTree::Punct(_) => {}
            }
        }
    }

    /// A plain or raw string literal's contents renamed, quotes kept;
    /// `None` for other literals (numbers, chars, byte strings).
    fn string_literal(&self, text: &str) -> Option<String> {
        let body = text.strip_prefix('r').unwrap_or(text);
        let hashes = body.len() - body.trim_start_matches('#').len();
        let open = &text[..text.len() - body.len() + hashes + 1];
        let close = &text[text.len() - hashes - 1..];
        if !open.ends_with('"') || text.len() < open.len() + close.len() {
            return None;
        }
        let inner = &text[open.len()..text.len() - close.len()];
        self.rename(inner).map(|new| format!("{open}{new}{close}"))
    }

    /// A TOML file renamed: every string value, keys that are ids (a
    /// scenario's `[state]` is keyed by process id), and the whole-word
    /// names in full-line comments; its layout kept.
    pub fn toml_file(&self, doc: &mut toml_edit::DocumentMut) -> String {
        self.toml_values(doc);
        self.toml_keys(doc.as_table_mut());
        let mut text = String::new();
        for line in doc.to_string().split_inclusive('\n') {
            let renamed = line
                .trim_start()
                .starts_with('#')
                .then(|| self.rename_words(line))
                .flatten();
            text.push_str(renamed.as_deref().unwrap_or(line));
        }
        text
    }

    fn toml_keys(&self, table: &mut dyn toml_edit::TableLike) {
        let renames: Vec<(String, String)> = table
            .iter()
            .filter_map(|(key, _)| Some((key.to_string(), self.rename_words(key)?)))
            .collect();
        for (old, new) in renames {
            if let Some(item) = table.remove(&old) {
                table.insert(&new, item);
            }
        }
        for (_, item) in table.iter_mut() {
            if let Some(inner) = item.as_table_like_mut() {
                self.toml_keys(inner);
            } else if let Some(array) = item.as_array_of_tables_mut() {
                for inner in array.iter_mut() {
                    self.toml_keys(inner);
                }
            }
        }
    }

    /// Renames every string value of a TOML document (not keys, not
    /// comments), keeping its layout.
    pub fn toml_values(&self, doc: &mut toml_edit::DocumentMut) {
        struct Visit<'a>(&'a Renamer);
        impl toml_edit::visit_mut::VisitMut for Visit<'_> {
            fn visit_string_mut(&mut self, node: &mut toml_edit::Formatted<String>) {
                if let Some(new) = self.0.rename(node.value()) {
                    let decor = node.decor().clone();
                    *node = toml_edit::Formatted::new(new);
                    *node.decor_mut() = decor;
                }
            }
        }
        toml_edit::visit_mut::visit_document_mut(&mut Visit(self), doc);
    }
}

/// The comments of a Rust source: `//` to the end of the line and
/// `/* */`, outside the literals the lexer found (sorted by position).
fn comments(source: &str, literals: &[std::ops::Range<usize>]) -> Vec<std::ops::Range<usize>> {
    let bytes = source.as_bytes();
    let mut found = Vec::new();
    let mut i = 0;
    while i + 1 < bytes.len() {
        if let Some(literal) = literals.iter().find(|r| r.contains(&i)) {
            i = literal.end;
            continue;
        }
        let end = match &bytes[i..i + 2] {
            b"//" => source[i..].find('\n').map_or(source.len(), |n| i + n),
            b"/*" => source[i..].find("*/").map_or(source.len(), |n| i + n + 2),
            _ => {
                i += 1;
                continue;
            }
        };
        found.push(i..end);
        i = end;
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn renamer() -> Renamer {
        let mut r = Renamer::default();
        r.word("parent:spawn:template.os", "boss:app:me.os");
        r.word("spawn:template.os", "app:me.os");
        r.word("child.wasm", "worker.wasm");
        r.whole("parent", "boss");
        r
    }

    #[test]
    fn a_whole_string_literal_is_renamed_inside_its_quotes() {
        let out = renamer()
            .rust_source("f(\"parent\", r##\"parent\"##, 'p', 1);")
            .unwrap();
        assert_eq!(out, "f(\"boss\", r##\"boss\"##, 'p', 1);");
    }

    #[test]
    fn words_are_replaced_at_name_boundaries_only() {
        let r = renamer();
        assert_eq!(
            r.rename("parent:spawn:template.os").as_deref(),
            Some("boss:app:me.os")
        );
        assert_eq!(
            r.rename("driver:spawn:template.os").as_deref(),
            Some("driver:app:me.os")
        );
        assert_eq!(
            r.rename("{}/pkg/child.wasm").as_deref(),
            Some("{}/pkg/worker.wasm")
        );
        assert_eq!(
            r.rename("vfs/spawn:template.os/data/x").as_deref(),
            Some("vfs/app:me.os/data/x")
        );
        assert_eq!(r.rename("mychild.wasm"), None);
        assert_eq!(r.rename("the parent process"), None);
        assert_eq!(r.rename("parent").as_deref(), Some("boss"));
    }

    #[test]
    fn a_replacement_is_not_renamed_again() {
        let mut r = Renamer::default();
        r.word("a.os", "b.os");
        r.word("b.os", "c.os");
        assert_eq!(r.rename("a.os b.os").as_deref(), Some("b.os c.os"));
    }

    #[test]
    fn rust_string_literals_and_comment_words_change_and_identifiers_do_not() {
        let source = "//! Doc: child.wasm\n// child.wasm — parent in a comment\nfn f(child: &str) {\n    let é = \"{}/pkg/child.wasm\"; /* child.wasm */\n    let raw = r#\"child.wasm\"#;\n    let b = b\"child.wasm\";\n    let url = \"http://x//child.wasm\";\n}\n";
        let out = renamer().rust_source(source).unwrap();
        assert_eq!(
            out,
            "//! Doc: worker.wasm\n// worker.wasm — parent in a comment\nfn f(child: &str) {\n    let é = \"{}/pkg/worker.wasm\"; /* worker.wasm */\n    let raw = r#\"worker.wasm\"#;\n    let b = b\"child.wasm\";\n    let url = \"http://x//worker.wasm\";\n}\n"
        );
    }

    #[test]
    fn toml_keys_that_are_ids_and_comment_words_are_renamed() {
        let mut doc: toml_edit::DocumentMut =
            "# parent:spawn:template.os spawns\n[state]\n\"parent:spawn:template.os\" = \"x\"\nparent = 1\n"
                .parse()
                .unwrap();
        assert_eq!(
            renamer().toml_file(&mut doc),
            "# boss:app:me.os spawns\n[state]\nparent = 1\n\"boss:app:me.os\" = \"x\"\n"
        );
    }

    #[test]
    fn toml_string_values_change_and_keys_and_comments_do_not() {
        let mut doc: toml_edit::DocumentMut =
            "# parent:spawn:template.os\nparent = \"parent:spawn:template.os\" # parent\nlist = [\"parent\", 1]\n"
                .parse()
                .unwrap();
        renamer().toml_values(&mut doc);
        assert_eq!(
            doc.to_string(),
            "# parent:spawn:template.os\nparent = \"boss:app:me.os\" # parent\nlist = [\"boss\", 1]\n"
        );
    }
}
