//! The crate's layers point one way: a top-level module may use only the
//! modules listed before it here (the order `src/lib.rs` explains). This
//! reads every source file, finds each `crate::` path, and fails naming the
//! file and line of any use that points up a layer, which is also what an
//! import circle between top-level modules would need.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Bottom first.
const LAYERS: [&str; 19] = [
    "types", "util", "kernel", "report", "view", "node", "network", "host", "modules", "driver",
    "package", "api", "scenario", "kit", "template", "watch", "bench", "fuzz", "main",
];

/// What `lib.rs` re-exports at the crate root, by the module it comes from.
const ROOT_ITEMS: [(&str, &str); 13] = [
    ("InputError", "types"),
    ("PackageId", "types"),
    ("ProcessId", "types"),
    ("Runtime", "types"),
    ("HttpMock", "modules"),
    ("Report", "report"),
    ("run", "api"),
    ("run_network", "api"),
    ("NodeSpec", "api"),
    ("RunError", "api"),
    ("RunOptions", "api"),
    ("Session", "api"),
    ("disable_disk_cache", "api"),
];

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The first path segment of every `crate::` path in `line` (a group
/// `crate::{a, b::c}` gives `a` and `b`).
fn crate_paths(line: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = line;
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 1;
            let mut item = String::new();
            let mut items = Vec::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 1 => items.push(std::mem::take(&mut item)),
                    _ if depth == 1 => item.push(c),
                    _ => {}
                }
                if depth == 0 {
                    break;
                }
            }
            items.push(item);
            for item in items {
                let first = item.trim().split("::").next().unwrap_or("").to_string();
                if !first.is_empty() {
                    found.push(first);
                }
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            found.push(name);
        }
    }
    found
}

#[test]
fn no_top_level_module_uses_one_above_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let layer = |name: &str| LAYERS.iter().position(|l| *l == name);
    let mut upward = Vec::new();
    let mut edges: BTreeMap<(&str, String), usize> = BTreeMap::new();
    for file in &files {
        let relative = file.strip_prefix(&src).unwrap();
        let top = relative
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_string();
        if top == "lib" {
            continue;
        }
        let Some(own) = layer(&top) else {
            panic!(
                "{}: a top-level module missing from LAYERS",
                relative.display()
            );
        };
        let text = std::fs::read_to_string(file).unwrap();
        for (number, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for first in crate_paths(code) {
                let target = ROOT_ITEMS
                    .iter()
                    .find(|(item, _)| *item == first)
                    .map_or(first.as_str(), |(_, module)| module);
                let Some(theirs) = layer(target) else {
                    panic!(
                        "{}:{}: `crate::{first}` is neither a layer nor a root item this test knows",
                        relative.display(),
                        number + 1
                    );
                };
                if theirs != own {
                    *edges.entry((LAYERS[own], target.to_string())).or_default() += 1;
                }
                if theirs > own {
                    upward.push(format!(
                        "{}:{}: `{top}` uses `{target}`, a layer above it: {}",
                        relative.display(),
                        number + 1,
                        line.trim()
                    ));
                }
            }
        }
    }
    assert!(upward.is_empty(), "{}", upward.join("\n"));
    // The test sees the crate: the layers do use each other.
    assert!(
        edges.contains_key(&("node", "kernel".to_string())),
        "{edges:?}"
    );
    assert!(
        edges.contains_key(&("modules", "node".to_string())),
        "{edges:?}"
    );
}

#[test]
fn the_scan_finds_grouped_and_plain_paths() {
    assert_eq!(
        crate_paths("use crate::{kernel::Event, node::{Module, ModuleCtx}, Runtime};"),
        ["kernel", "node", "Runtime"]
    );
    assert_eq!(
        crate_paths("let x = crate::util::lock(&m); crate::types::X"),
        ["util", "types"]
    );
}
