//! JSON that keeps its keys in file order, for the tools that edit
//! `metadata.json` and `pkg/manifest.json` (`new`, `package
//! --update-hash`): `serde_json::Value` sorts keys, and a file whose keys
//! move around makes a noisy diff. Written back as `serde_json` pretty-prints
//! (two spaces), which is how kit writes these files.

use std::path::Path;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use crate::types::InputError;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Json {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    String(String),
    Array(Vec<Json>),
    Object(IndexMap<String, Json>),
}

impl Json {
    pub fn read(path: &Path) -> Result<Json, InputError> {
        let text = crate::util::read_input_text(path)?;
        Self::parse(&text).map_err(|reason| InputError::invalid(path, reason))
    }

    pub fn parse(text: &str) -> Result<Json, String> {
        serde_json::from_str(text).map_err(|e| format!("invalid JSON: {e}"))
    }

    pub fn to_pretty(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).expect("JSON values serialize");
        text.push('\n');
        text
    }

    pub fn write(&self, path: &Path) -> Result<(), InputError> {
        std::fs::write(path, self.to_pretty())
            .map_err(|e| InputError::invalid(path, format!("cannot write: {e}")))
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut Json> {
        match self {
            Json::Object(map) => map.get_mut(key),
            _ => None,
        }
    }

    /// Calls `f` with the key path (object keys; array items as their
    /// index) and value of every string value, and replaces the value with
    /// what `f` returns. Keys are never passed.
    pub fn rewrite_strings(&mut self, f: &mut dyn FnMut(&[String], &str) -> Option<String>) {
        fn go(
            json: &mut Json,
            path: &mut Vec<String>,
            f: &mut dyn FnMut(&[String], &str) -> Option<String>,
        ) {
            match json {
                Json::String(s) => {
                    if let Some(new) = f(path, s) {
                        *s = new;
                    }
                }
                Json::Array(items) => {
                    for (i, item) in items.iter_mut().enumerate() {
                        path.push(i.to_string());
                        go(item, path, f);
                        path.pop();
                    }
                }
                Json::Object(map) => {
                    for (key, value) in map.iter_mut() {
                        path.push(key.clone());
                        go(value, path, f);
                        path.pop();
                    }
                }
                Json::Null | Json::Bool(_) | Json::Number(_) => {}
            }
        }
        go(self, &mut Vec::new(), f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_keep_their_order_and_the_text_round_trips() {
        let text =
            "{\n  \"z\": 1,\n  \"a\": [\n    true,\n    null,\n    \"s\"\n  ],\n  \"m\": {}\n}\n";
        assert_eq!(Json::parse(text).unwrap().to_pretty(), text);
    }

    #[test]
    fn string_values_are_rewritten_with_their_path_and_keys_are_not() {
        let mut json = Json::parse(r#"{"parent": {"list": ["parent", 1]}}"#).unwrap();
        let mut seen = Vec::new();
        json.rewrite_strings(&mut |path, value| {
            seen.push(path.join("."));
            Some(value.to_uppercase())
        });
        assert_eq!(seen, ["parent.list.0"]);
        assert_eq!(
            serde_json::to_string(&json).unwrap(),
            r#"{"parent":{"list":["PARENT",1]}}"#
        );
    }
}
