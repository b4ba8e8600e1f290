//! Which of the template's files a new package gets: the tracked sources
//! of the package itself (its processes, `pkg/`, `wit/`, scenarios), never
//! build output, the harness, or the template's own tooling.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::types::InputError;

/// Files under `dir` that git tracks, relative to it. Outside a git
/// checkout (a downloaded archive): every file but `target/`, `.git/` and
/// `*.wasm`, which are build output.
pub fn tracked_files(dir: &Path) -> Result<Vec<PathBuf>, InputError> {
    let git = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["ls-files", "-z", "--cached", "."])
        .output();
    match git {
        // Paths relative to `dir`, wherever the repository's root is.
        Ok(out) if out.status.success() => Ok(out
            .stdout
            .split(|&b| b == 0)
            .filter(|name| !name.is_empty())
            .map(|name| PathBuf::from(String::from_utf8_lossy(name).into_owned()))
            .filter(|path| dir.join(path).is_file())
            .collect()),
        _ => {
            let skipped = |path: &Path| {
                path.file_name()
                    .is_some_and(|name| name == "target" || name == ".git")
            };
            let mut files: Vec<PathBuf> = crate::util::entries(dir, &|path| !skipped(path))?
                .into_iter()
                .filter(|path| path.is_file() && path.extension().is_none_or(|ext| ext != "wasm"))
                .filter_map(|path| Some(path.strip_prefix(dir).ok()?.to_owned()))
                .collect();
            files.sort();
            Ok(files)
        }
    }
}

/// Whether a tracked file belongs to the package (as opposed to the
/// harness, the componentizer, benchmarks or CI): `process_dirs` are the
/// process crates' directories.
pub fn is_package_file(path: &Path, process_dirs: &[String]) -> bool {
    let Some(first) = path.iter().next().and_then(|c| c.to_str()) else {
        return false;
    };
    let is_wasm = path.extension().is_some_and(|ext| ext == "wasm");
    let top_level = path.components().count() == 1;
    match first {
        "Cargo.toml" | "Cargo.lock" | "metadata.json" | "package.mk" => top_level,
        "pkg" => !is_wasm,
        "wit" => true,
        "tests" => path.components().count() == 2 && path.extension().is_some_and(|e| e == "toml"),
        dir => process_dirs.iter().any(|p| p == dir) && !is_wasm,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outside_git_every_source_is_listed_but_build_output() {
        let dir = std::env::temp_dir().join(format!("sources-walk-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        for path in [
            "src/lib.rs",
            "target/debug/x",
            ".git/HEAD",
            "pkg/a.wasm",
            "pkg/manifest.json",
        ] {
            let path = dir.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "x").unwrap();
        }
        std::os::unix::fs::symlink(&dir, dir.join("src/loop")).unwrap();
        let files = tracked_files(&dir).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(
            files,
            [
                PathBuf::from("pkg/manifest.json"),
                PathBuf::from("src/lib.rs")
            ]
        );
    }

    #[test]
    fn only_the_packages_own_sources_are_copied() {
        let processes = ["parent".to_string(), "child".to_string()];
        let yes = [
            "Cargo.toml",
            "Cargo.lock",
            "metadata.json",
            "package.mk",
            "pkg/manifest.json",
            "pkg/ui/index.html",
            "wit/kinode.wit",
            "tests/spawn.toml",
            "parent/src/lib.rs",
            "child/Cargo.toml",
        ];
        let no = [
            "Makefile",
            "README.md",
            "pkg/parent.wasm",
            "host-harness/src/lib.rs",
            "componentize/Cargo.toml",
            "bench/run.sh",
            ".ci/run",
            "tests/nested/x.toml",
            "tests/notes.md",
            "parent/Cargo.toml.orig/x.wasm",
            "child.wasm",
        ];
        for path in yes {
            assert!(is_package_file(Path::new(path), &processes), "{path}");
        }
        for path in no {
            assert!(!is_package_file(Path::new(path), &processes), "{path}");
        }
    }
}
