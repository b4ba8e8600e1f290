//! A package directory: `metadata.json`, `pkg/manifest.json` and the wasm
//! files in `pkg/` (the package's `pkg` drive). Loading checks everything a
//! node would reject at install, and names the file and field at fault.

pub mod archive;
pub(crate) mod json;
mod manifest;
mod metadata;

use std::path::{Path, PathBuf};

pub(crate) use manifest::{CapList, CapabilityEntry, ManifestEntry};
pub(crate) use metadata::Metadata;

use crate::kernel::{InstallPlan, SkippedEntry};
use crate::types::{
    check_process_name, is_node_name, InputError, OnExit, PackageId, ProcessId, WasmKey,
};

/// The longest file name most file systems take (ext4, APFS, NTFS).
const MAX_NAME_BYTES: usize = 255;

/// A package as the harness installs it.
#[derive(Debug, Clone)]
pub(crate) struct Package {
    pub dir: PathBuf,
    pub id: PackageId,
    pub metadata: Metadata,
    pub processes: Vec<ProcessPlan>,
}

/// One manifest entry, checked and resolved.
#[derive(Debug, Clone)]
pub(crate) struct ProcessPlan {
    pub id: ProcessId,
    /// As written in the manifest, e.g. `/parent.wasm`.
    pub wasm_path: String,
    /// The file on disk, inside `pkg/`.
    pub wasm_file: PathBuf,
    pub on_exit: OnExit,
    pub request_networking: bool,
    pub request_capabilities: Vec<CapabilityEntry>,
    pub grant_capabilities: Vec<CapabilityEntry>,
    pub public: bool,
    /// Capability entries the app store skips.
    pub skipped: Vec<SkippedEntry>,
}

impl ProcessPlan {
    /// What the kernel installs for this entry, its wasm compiled as `wasm`;
    /// `wit_version` is the package's.
    pub fn install_plan(&self, wasm: WasmKey, wit_version: Option<u32>) -> InstallPlan {
        let pairs = |entries: &[CapabilityEntry]| {
            entries
                .iter()
                .map(|e| (e.process.clone(), e.params.clone()))
                .collect()
        };
        InstallPlan {
            id: self.id.clone(),
            wasm_path: self.wasm_path.clone(),
            wasm,
            wit_version,
            on_exit: self.on_exit.clone(),
            public: self.public,
            request_networking: self.request_networking,
            request_capabilities: pairs(&self.request_capabilities),
            grant_capabilities: pairs(&self.grant_capabilities),
            skipped: self.skipped.clone(),
        }
    }
}

impl Package {
    /// The directory on disk behind the package's `pkg` drive.
    pub fn pkg_dir(&self) -> PathBuf {
        self.dir.join("pkg")
    }

    pub fn load(dir: &Path) -> Result<Package, InputError> {
        let metadata = crate::util::read_input_text(&dir.join("metadata.json"))?;
        let manifest = crate::util::read_input_text(&dir.join("pkg").join("manifest.json"))?;
        Package::parse(dir, &metadata, &manifest)
    }

    /// The package in `dir` whose `metadata.json` and `pkg/manifest.json`
    /// hold these texts (errors name those files).
    pub fn parse(dir: &Path, metadata: &str, manifest: &str) -> Result<Package, InputError> {
        let metadata = parse_metadata(&dir.join("metadata.json"), metadata)?;
        let props = &metadata.properties;
        let id = PackageId {
            package_name: props.package_name.clone(),
            publisher_node: props.publisher.clone(),
        };

        let manifest_path = dir.join("pkg").join("manifest.json");
        let entries: Vec<ManifestEntry> = parse_json(&manifest_path, manifest)?;
        let mut processes = Vec::new();
        for (index, entry) in entries.iter().enumerate() {
            let field = |name: &str| format!("[{index}].{name}");
            let bad = |name: &str, reason: String| {
                InputError::invalid(&manifest_path, format!("{}: {reason}", field(name)))
            };
            check_process_name(&entry.process_name).map_err(|e| bad("process_name", e))?;
            let relative = entry.process_wasm_path.trim_start_matches('/');
            if relative.is_empty()
                || Path::new(relative)
                    .components()
                    .any(|c| !matches!(c, std::path::Component::Normal(_)))
            {
                return Err(bad(
                    "process_wasm_path",
                    format!(
                        "`{}` must name a file inside pkg/, e.g. \"/{}.wasm\"",
                        entry.process_wasm_path, entry.process_name
                    ),
                ));
            }
            let on_exit = entry
                .on_exit
                .to_on_exit_from_manifest()
                .map_err(|e| bad("on_exit", e))?;
            let process = ProcessId::new(&entry.process_name, &id.package_name, &id.publisher_node);
            let mut skipped = Vec::new();
            let mut caps = |list: CapList, values: &[serde_json::Value]| {
                let mut read = Vec::new();
                for (i, value) in values.iter().enumerate() {
                    match CapabilityEntry::read(value, list, i, &process) {
                        Ok(entry) => read.push(entry),
                        Err(skip) => skipped.push(skip),
                    }
                }
                read
            };
            let request_capabilities = caps(CapList::Request, &entry.request_capabilities);
            let grant_capabilities = caps(CapList::Grant, &entry.grant_capabilities);
            // The node home names a file by each id (`state/<id>`).
            if process.to_string().len() > MAX_NAME_BYTES {
                return Err(bad(
                    "process_name",
                    format!(
                        "`{process}` is {} bytes; a node names a file by it, and a file name \
                         holds at most {MAX_NAME_BYTES}",
                        process.to_string().len()
                    ),
                ));
            }
            processes.push(ProcessPlan {
                id: process,
                wasm_path: entry.process_wasm_path.clone(),
                wasm_file: dir.join("pkg").join(relative),
                on_exit,
                request_networking: entry.request_networking,
                request_capabilities,
                grant_capabilities,
                public: entry.public,
                skipped,
            });
        }
        Ok(Package {
            dir: dir.to_owned(),
            id,
            metadata,
            processes,
        })
    }
}

/// `dir/metadata.json`, with the package name and publisher checked, and
/// its path (for errors about it).
pub(crate) fn load_metadata(dir: &Path) -> Result<(Metadata, PathBuf), InputError> {
    let metadata_path = dir.join("metadata.json");
    let text = crate::util::read_input_text(&metadata_path)?;
    Ok((parse_metadata(&metadata_path, &text)?, metadata_path))
}

/// `metadata.json` (at `metadata_path`, for errors) from its text.
fn parse_metadata(metadata_path: &Path, text: &str) -> Result<Metadata, InputError> {
    let metadata: Metadata = parse_json(metadata_path, text)?;
    let props = &metadata.properties;
    check_process_name(&props.package_name).map_err(|_| {
        InputError::invalid(
            metadata_path,
            format!(
                "properties.package_name `{}` may only contain a-z, 0-9 and `-`",
                props.package_name
            ),
        )
    })?;
    if !is_node_name(&props.publisher) {
        return Err(InputError::invalid(
            metadata_path,
            format!(
                "properties.publisher `{}` may only contain a-z, 0-9, `-` and `.`",
                props.publisher
            ),
        ));
    }
    Ok(metadata)
}

fn parse_json<T: serde::de::DeserializeOwned>(path: &Path, text: &str) -> Result<T, InputError> {
    serde_json::from_str(text).map_err(|e| InputError::invalid(path, format!("invalid JSON: {e}")))
}

#[cfg(test)]
mod tests;
