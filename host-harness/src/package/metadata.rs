//! `metadata.json`: the ERC-721 style record the app store reads. The
//! harness needs `properties.package_name` and `properties.publisher`; the
//! rest is parsed so a schema error shows up here and not on a node (read
//! only for that: hence `dead_code`).

use std::collections::HashMap;

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[allow(dead_code)]
pub struct Metadata {
    pub name: Option<String>,
    pub description: Option<String>,
    pub image: Option<String>,
    pub external_url: Option<String>,
    pub animation_url: Option<String>,
    pub properties: Properties,
}

#[derive(Debug, Clone, Deserialize)]
#[allow(dead_code)]
pub struct Properties {
    pub package_name: String,
    pub publisher: String,
    pub current_version: String,
    pub mirrors: Vec<String>,
    pub code_hashes: HashMap<String, String>,
    pub license: Option<String>,
    pub screenshots: Option<Vec<String>>,
    pub wit_version: Option<u32>,
    pub dependencies: Option<Vec<String>>,
    pub api_includes: Option<Vec<std::path::PathBuf>>,
}
