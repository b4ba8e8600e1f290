//! kit's `tests.toml`: which packages to set up, which test packages to
//! run, on how many nodes, with what timeout. Only the fields the harness
//! uses are read; the runtime, ports and chain settings are a node's.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::types::{is_node_name, InputError};

/// A day: longer than any test, short enough for timer arithmetic.
const MAX_TIMEOUT_SECS: u64 = 86_400;

#[derive(Debug, Deserialize)]
pub struct Suite {
    pub tests: Vec<Test>,
}

#[derive(Debug, Deserialize)]
pub struct Test {
    #[serde(default)]
    pub setup_packages: Vec<SetupPackage>,
    pub test_package_paths: Vec<PathBuf>,
    #[serde(default)]
    pub test_scripts: Vec<String>,
    pub timeout_secs: u64,
    pub nodes: Vec<Node>,
}

#[derive(Debug, Deserialize)]
pub struct SetupPackage {
    pub path: PathBuf,
    /// Installed and started; otherwise only its wasm is copied over.
    pub run: bool,
}

#[derive(Debug, Deserialize)]
pub struct Node {
    pub fake_node_name: String,
}

impl Suite {
    /// Reads `path` (a `tests.toml`, or a directory holding one or
    /// `test/tests.toml`, as kit looks); paths inside are relative to it.
    /// Gives the suite, its directory and the file.
    pub fn load(path: &Path) -> Result<(Suite, PathBuf, PathBuf), InputError> {
        let file = [
            path.to_owned(),
            path.join("tests.toml"),
            path.join("test/tests.toml"),
        ]
        .into_iter()
        .find(|p| p.is_file())
        .ok_or_else(|| InputError::invalid(path, "no tests.toml here (nor in test/)"))?;
        let text = crate::util::read_input_text(&file)?;
        let suite: Suite = toml::from_str(&text)
            .map_err(|e| InputError::invalid(&file, format!("not a kit tests.toml: {e}")))?;
        for (index, test) in suite.tests.iter().enumerate() {
            let bad =
                |reason: String| InputError::invalid(&file, format!("tests[{index}]: {reason}"));
            if test.timeout_secs == 0 || test.timeout_secs > MAX_TIMEOUT_SECS {
                return Err(bad(format!(
                    "timeout_secs {} must be 1 to {MAX_TIMEOUT_SECS} (a day)",
                    test.timeout_secs
                )));
            }
            let mut seen = Vec::new();
            for node in &test.nodes {
                if seen.contains(&&node.fake_node_name) {
                    return Err(bad(format!(
                        "fake_node_name `{}` is used twice",
                        node.fake_node_name
                    )));
                }
                seen.push(&node.fake_node_name);
                if !is_node_name(&node.fake_node_name) {
                    return Err(bad(format!(
                        "fake_node_name `{}` is not a node name: a-z, 0-9, `-` and `.` only",
                        node.fake_node_name
                    )));
                }
            }
        }
        let dir = file.parent().map(Path::to_owned).unwrap_or_default();
        Ok((suite, dir, file))
    }
}
