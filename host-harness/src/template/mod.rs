//! `host-harness new`: a new package from this template, renamed where the
//! names matter, standalone (its own workspace and Makefile), and checked
//! before anything is written.
//!
//! Renaming works on parsed files (`names.rs` checks the names,
//! `rename.rs` edits JSON and TOML string values and Rust string literals,
//! `sources.rs` picks the files): ids such as `parent:spawn:template.os`,
//! wasm paths such as `/child.wasm`, bare names in `process_name`, and the
//! crates and their directories. The harness itself is not copied: the new
//! package's Makefile runs it from the checkout it came from (or from
//! `host-harness` on `PATH`).

mod names;
mod rename;
mod sources;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::package::json::Json;
use crate::types::InputError;
use rename::Renamer;

/// What to make.
#[derive(Debug, Clone)]
pub struct NewPackage {
    pub name: String,
    pub publisher: String,
    /// Processes to rename: the template's crate name, its new name and the
    /// option that asked for it (for errors), e.g. `("child", "worker",
    /// "--child")`.
    pub renames: Vec<(String, String, String)>,
    /// Where to write it: a directory that does not exist or is empty.
    pub dest: PathBuf,
    /// The runtime it is built for by default (the SDK, and the new
    /// Makefile's `FLAVOR`).
    pub runtime: crate::Runtime,
}

/// What was made.
#[derive(Debug, Clone)]
pub struct Created {
    pub dir: PathBuf,
    /// `name:publisher`.
    pub package_id: String,
    /// The process crates, in workspace order.
    pub processes: Vec<String>,
    pub files: Vec<PathBuf>,
}

/// The generated Makefile and README; `@NAME@` placeholders are filled in.
const MAKEFILE: &str = include_str!("Makefile.in");
const README: &str = include_str!("README.md.in");
const GITIGNORE: &str = "/target\n/pkg/*.wasm\n";

fn flag_error(flag: &str, reason: String) -> InputError {
    InputError::invalid(flag, reason)
}

/// Makes a new package from the template in `template` (this repository).
///
/// ```
/// use host_harness::template::{create, NewPackage};
///
/// let scratch = std::env::temp_dir().join(format!("doc-new-{}", std::process::id()));
/// let new = NewPackage {
///     name: "my-app".into(),
///     publisher: "me.os".into(),
///     renames: vec![("child".into(), "worker".into(), "--child".into())],
///     dest: scratch.join("my-app"),
///     runtime: host_harness::Runtime::Kinode,
/// };
/// let created = create(std::path::Path::new(".."), &new).unwrap();
/// assert_eq!(created.package_id, "my-app:me.os");
/// assert_eq!(created.processes, ["parent", "worker"]);
/// // A name a node would refuse writes nothing and names the option.
/// let bad = NewPackage { name: "My_App".into(), ..new };
/// assert!(create(std::path::Path::new(".."), &bad).unwrap_err().to_string().starts_with("--name"));
/// std::fs::remove_dir_all(scratch).unwrap();
/// ```
pub fn create(template: &Path, new: &NewPackage) -> Result<Created, InputError> {
    names::check_package_name(&new.name).map_err(|e| flag_error("--name", e))?;
    names::check_publisher(&new.publisher).map_err(|e| flag_error("--publisher", e))?;
    for (_, name, flag) in &new.renames {
        names::check_process(name).map_err(|e| flag_error(flag, e))?;
    }
    let renamed = |old: &str| {
        new.renames
            .iter()
            .find(|(from, _, _)| from == old)
            .map_or(old.to_string(), |(_, to, _)| to.clone())
    };
    // The parent spawns `spawned-<child>-process`, the longest name.
    let spawned = format!("spawned-{}-process", renamed("child"));
    names::check_lengths(&new.name, &new.publisher, &[&renamed("parent"), &spawned])
        .map_err(|e| flag_error("--name", e))?;
    check_destination(&new.dest)?;

    let root_manifest = template.join("Cargo.toml");
    if !template.join("package.mk").is_file() {
        return Err(InputError::invalid(
            template,
            "is not the template checkout (no package.mk); run `new` there or pass --from",
        ));
    }
    let mut workspace = read_toml(&root_manifest)?;
    let (process_dirs, used_deps) = process_crates(template, &workspace, &root_manifest)?;
    let (metadata, _) = crate::package::load_metadata(template)?;
    let old_id = format!(
        "{}:{}",
        metadata.properties.package_name, metadata.properties.publisher
    );
    let new_id = format!("{}:{}", new.name, new.publisher);

    let mut renamed: BTreeMap<String, String> = BTreeMap::new();
    for (old, name, flag) in &new.renames {
        if !process_dirs.contains(old) {
            return Err(flag_error(
                flag,
                format!(
                    "the template has no process `{old}` to rename (its processes: {})",
                    process_dirs.join(", ")
                ),
            ));
        }
        renamed.insert(old.clone(), name.clone());
    }
    let new_name = |p: &String| renamed.get(p).cloned().unwrap_or_else(|| p.clone());
    let new_processes: Vec<String> = process_dirs.iter().map(new_name).collect();
    let mut unique = new_processes.clone();
    unique.sort();
    unique.dedup();
    if unique.len() != new_processes.len() {
        return Err(flag_error(
            "--parent/--child",
            format!(
                "two processes would share a name: {}",
                new_processes.join(", ")
            ),
        ));
    }

    let mut renamer = Renamer::default();
    for (old, new_process) in process_dirs.iter().zip(&new_processes) {
        renamer.word(format!("{old}:{old_id}"), format!("{new_process}:{new_id}"));
        renamer.word(format!("{old}.wasm"), format!("{new_process}.wasm"));
        // The name the parent spawns its child under follows the child.
        renamer.word(
            format!("spawned-{old}-process"),
            format!("spawned-{new_process}-process"),
        );
        renamer.whole(old.clone(), new_process.clone());
    }
    renamer.word(&old_id, &new_id);
    renamer.whole(metadata.properties.package_name.clone(), new.name.clone());
    renamer.whole(metadata.properties.publisher.clone(), new.publisher.clone());

    // Every output file, in memory first: nothing is written on an error.
    let mut out: BTreeMap<PathBuf, Vec<u8>> = BTreeMap::new();
    let files = sources::tracked_files(template)?;
    for relative in files
        .iter()
        .filter(|p| sources::is_package_file(p, &process_dirs))
    {
        let source = template.join(relative);
        let bytes = std::fs::read(&source).map_err(|e| InputError::Read {
            path: source.clone(),
            source: e,
        })?;
        let text = || {
            String::from_utf8(bytes.clone())
                .map_err(|_| InputError::invalid(&source, "is not UTF-8"))
        };
        let mut target = relative.clone();
        let mut parts = relative.iter();
        let first = parts.next().and_then(|c| c.to_str()).unwrap_or_default();
        let is_process_file = process_dirs.iter().any(|p| p == first);
        if is_process_file {
            target = PathBuf::from(new_name(&first.to_string())).join(parts.as_path());
        }
        let contents = match relative.to_str().unwrap_or_default() {
            "Cargo.toml" => {
                standalone_workspace(&mut workspace, &used_deps, &new_processes);
                workspace.to_string().into_bytes()
            }
            "metadata.json" => rename_metadata(&source, &text()?, new, &renamer)?,
            "Cargo.lock" => bytes,
            path if path.ends_with(".json") && path.starts_with("pkg/") => {
                let mut json =
                    Json::parse(&text()?).map_err(|e| InputError::invalid(&source, e))?;
                json.rewrite_strings(&mut |_, value| renamer.rename(value));
                json.to_pretty().into_bytes()
            }
            path if path.ends_with(".toml") => {
                let mut doc = parse_toml(&source, &text()?)?;
                if is_process_file && path.ends_with("/Cargo.toml") {
                    // The crate is `<package>-<process>`, its wasm still
                    // `<process>.wasm` (the lib's name): crates of two
                    // packages never share a name, so they can share one
                    // cargo target directory (see the Makefile).
                    let process = new_name(&first.to_string());
                    doc["package"]["name"] = toml_edit::value(crate_name(&new.name, &process));
                    doc["lib"]["name"] = toml_edit::value(process);
                }
                renamer.toml_file(&mut doc).into_bytes()
            }
            path if is_process_file && path.ends_with(".rs") => renamer
                .rust_source(&text()?)
                .map_err(|e| InputError::invalid(&source, e))?
                .into_bytes(),
            _ => bytes,
        };
        out.insert(target, contents);
    }
    for required in [
        "Cargo.toml",
        "metadata.json",
        "package.mk",
        "pkg/manifest.json",
    ] {
        if !out.contains_key(Path::new(required)) {
            return Err(InputError::invalid(
                template.join(required),
                "is not tracked by git, so `new` would leave it out; `git add` it first",
            ));
        }
    }

    let harness_src = harness_source();
    let process_list = new_processes
        .iter()
        .map(|p| format!("`{p}/`"))
        .collect::<Vec<_>>()
        .join(", ");
    let profile = new.runtime.profile();
    // The template README's reference parts, carried into the new one.
    let readme = std::fs::read_to_string(template.join("README.md")).unwrap_or_default();
    let common = section(&readme, "### Common manifests", &["\n## ", "\n### "]);
    // The scenario format, and the sections it points to (several nodes;
    // time, seeds and faults).
    let scenarios = [
        section(&readme, "## Scenarios", &["\n## "])
            .replace("## Scenarios", "## Scenarios (the format)"),
        section(&readme, "## Several nodes", &["\n## "]),
        section(&readme, "## Time, seeds and faults", &["\n## "]),
    ]
    .join("\n");
    let fill = |text: &str| {
        text.replace("@PACKAGE_ID@", &new_id)
            .replace("@NAME@", &new.name)
            .replace("@PUBLISHER@", &new.publisher)
            .replace("@PROCESSES@", &new_processes.join(" "))
            .replace(
                "@CRATES@",
                &new_processes
                    .iter()
                    .map(|p| crate_name(&new.name, p))
                    .collect::<Vec<_>>()
                    .join(" "),
            )
            .replace("@PROCESS_DIRS@", &process_list)
            .replace("@PARENT@", &new_name(&"parent".to_string()))
            .replace(
                "@SDK@",
                &format!("`{}` {}", profile.sdk, profile.sdk_version),
            )
            .replace("@NODE@", profile.node_title)
            .replace("@FLAVOR@", profile.flavor)
            .replace("@HARNESS_SRC@", &harness_src.display().to_string())
            .replace("@COMMON_MANIFESTS@", &common.replacen("###", "##", 1))
            .replace("@SCENARIOS@", &scenarios)
    };
    out.insert("Makefile".into(), fill(MAKEFILE).into_bytes());
    out.insert("README.md".into(), fill(README).into_bytes());
    out.insert(".gitignore".into(), GITIGNORE.into());

    write_all(&new.dest, &out)?;
    Ok(Created {
        dir: new.dest.clone(),
        package_id: new_id,
        processes: new_processes,
        files: out.into_keys().collect(),
    })
}

/// The harness's own source checkout: the workspace this binary was built
/// from, which the new package's Makefile runs the harness from.
fn harness_source() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    dir.canonicalize().unwrap_or(dir)
}

fn check_destination(dest: &Path) -> Result<(), InputError> {
    match std::fs::read_dir(dest).map(|mut entries| entries.next().is_some()) {
        Ok(true) => Err(InputError::invalid(
            dest,
            "is not empty; `new` writes only into a new or empty directory",
        )),
        Ok(false) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotADirectory => Err(InputError::invalid(
            dest,
            "is a file; `new` needs a directory",
        )),
        Err(source) => Err(InputError::Read {
            path: dest.to_owned(),
            source,
        }),
    }
}

fn read_toml(path: &Path) -> Result<toml_edit::DocumentMut, InputError> {
    let text = std::fs::read_to_string(path).map_err(|source| InputError::Read {
        path: path.to_owned(),
        source,
    })?;
    parse_toml(path, &text)
}

fn parse_toml(path: &Path, text: &str) -> Result<toml_edit::DocumentMut, InputError> {
    text.parse()
        .map_err(|e| InputError::invalid(path, format!("invalid TOML: {e}")))
}

/// The template's process crates: workspace members at the top level that
/// build a `cdylib` (the harness's test guests live deeper), and every
/// dependency they name.
fn process_crates(
    template: &Path,
    workspace: &toml_edit::DocumentMut,
    path: &Path,
) -> Result<(Vec<String>, BTreeSet<String>), InputError> {
    let members = workspace
        .get("workspace")
        .and_then(|w| w.get("members"))
        .and_then(|m| m.as_array())
        .ok_or_else(|| InputError::invalid(path, "has no [workspace] members"))?;
    let mut processes = Vec::new();
    let mut dependencies = BTreeSet::new();
    for member in members.iter().filter_map(|m| m.as_str()) {
        if member.contains('/') {
            continue;
        }
        let crate_toml = template.join(member).join("Cargo.toml");
        let doc = read_toml(&crate_toml)?;
        let is_cdylib = doc
            .get("lib")
            .and_then(|lib| lib.get("crate-type"))
            .and_then(|types| types.as_array())
            .is_some_and(|types| types.iter().any(|t| t.as_str() == Some("cdylib")));
        if is_cdylib {
            processes.push(member.to_string());
            for table in ["dependencies", "dev-dependencies", "build-dependencies"] {
                if let Some(deps) = doc.get(table).and_then(|t| t.as_table_like()) {
                    dependencies.extend(deps.iter().map(|(name, _)| name.to_string()));
                }
            }
        }
    }
    if processes.is_empty() {
        return Err(InputError::invalid(
            path,
            "no workspace member is a process crate (a top-level `cdylib`)",
        ));
    }
    Ok((processes, dependencies))
}

/// The template's workspace, cut down to the new package: its processes as
/// members, the dependencies they take from the workspace, and the
/// `wasm-release` profile; the harness's members and settings go.
fn standalone_workspace(
    doc: &mut toml_edit::DocumentMut,
    used: &BTreeSet<String>,
    new_processes: &[String],
) {
    let workspace = doc["workspace"]
        .as_table_mut()
        .expect("process_crates found [workspace]");
    let mut members = toml_edit::Array::new();
    members.extend(new_processes.iter().map(String::as_str));
    workspace["members"] = toml_edit::value(members);
    workspace.remove("default-members");
    if let Some(deps) = workspace
        .get_mut("dependencies")
        .and_then(|d| d.as_table_mut())
    {
        deps.retain(|name, _| used.contains(name));
    }
    if let Some(profiles) = doc.get_mut("profile").and_then(|p| p.as_table_mut()) {
        profiles.retain(|name, _| name == "wasm-release");
    }
}

/// `metadata.json` for the new package: `name` and the ids renamed, and
/// every `code_hashes` entry emptied (`make package UPDATE_HASH=1` fills
/// the current one).
/// The part of `text` from the line `heading` to the next of `ends` (or
/// the end); empty if there is no such heading.
fn section(text: &str, heading: &str, ends: &[&str]) -> String {
    let Some(start) = text.find(&format!("\n{heading}\n")).map(|at| at + 1) else {
        return String::new();
    };
    let body = &text[start..];
    let end = ends
        .iter()
        .filter_map(|end| {
            body[heading.len()..]
                .find(end)
                .map(|at| at + heading.len() + 1)
        })
        .min()
        .unwrap_or(body.len());
    body[..end].to_string()
}

/// A process crate's name in a new package: `<package>-<process>`.
fn crate_name(package: &str, process: &str) -> String {
    format!("{package}-{process}")
}

fn rename_metadata(
    path: &Path,
    text: &str,
    new: &NewPackage,
    renamer: &Renamer,
) -> Result<Vec<u8>, InputError> {
    let mut json = Json::parse(text).map_err(|e| InputError::invalid(path, e))?;
    json.rewrite_strings(&mut |at, value| match at {
        [name] if name == "name" => Some(new.name.clone()),
        // The template's words describe the template: the author's go here.
        [description] if description == "description" => Some(format!(
            "TODO: what {} does, in a sentence for the app store.",
            new.name
        )),
        [properties, hashes, _] if properties == "properties" && hashes == "code_hashes" => {
            Some(String::new())
        }
        _ => renamer.rename(value),
    });
    Ok(json.to_pretty().into_bytes())
}

/// Writes every file under a staging directory beside `dest`, then moves
/// it into place, so a failure leaves nothing half-written.
fn write_all(dest: &Path, files: &BTreeMap<PathBuf, Vec<u8>>) -> Result<(), InputError> {
    let name = dest.file_name().ok_or_else(|| {
        InputError::invalid(
            dest,
            "give the new package's directory by name, e.g. --dest ../my-app",
        )
    })?;
    let parent = dest
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let staging = parent.join(format!(
        ".{}.new-{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let written = (|| -> std::io::Result<()> {
        for (relative, bytes) in files {
            let path = staging.join(relative);
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            std::fs::write(&path, bytes)?;
        }
        Ok(())
    })()
    .map_err(|e| InputError::invalid(dest, format!("cannot write the new package: {e}")))
    // What was written must load as a package, as `run` would load it,
    // before it takes the destination's place.
    .and_then(|()| crate::package::Package::load(&staging).map(|_| ()))
    .and_then(|()| {
        if dest.exists() {
            std::fs::remove_dir(dest)
                .map_err(|e| InputError::invalid(dest, format!("cannot replace: {e}")))?;
        }
        std::fs::rename(&staging, dest)
            .map_err(|e| InputError::invalid(dest, format!("cannot write the new package: {e}")))
    });
    if written.is_err() {
        let _ = std::fs::remove_dir_all(&staging);
    }
    written
}

#[cfg(test)]
mod tests;
