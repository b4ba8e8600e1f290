//! kit's `tests.toml`: which packages to set up, which test packages to
//! run, on how many nodes, with what timeout. Only the fields the harness
//! uses are read; the runtime, ports and chain settings are a node's.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::types::InputError;

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
    pub fn load(path: &Path) -> Result<(Suite, PathBuf), InputError> {
        let file = [
            path.to_owned(),
            path.join("tests.toml"),
            path.join("test/tests.toml"),
        ]
        .into_iter()
        .find(|p| p.is_file())
        .ok_or_else(|| InputError::invalid(path, "no tests.toml here (nor in test/)"))?;
        let text = std::fs::read_to_string(&file).map_err(|source| InputError::Read {
            path: file.clone(),
            source,
        })?;
        let suite: Suite = toml::from_str(&text)
            .map_err(|e| InputError::invalid(&file, format!("not a kit tests.toml: {e}")))?;
        let dir = file.parent().map(Path::to_owned).unwrap_or_default();
        Ok((suite, dir))
    }
}
