//! `new` on this repository's own template, into temporary directories.
//! (Building and running what it makes is `tests/all/new_package.rs`.)

use super::*;

fn template() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("new-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn request(dest: &Path) -> NewPackage {
    NewPackage {
        name: "my-app".into(),
        publisher: "someone.os".into(),
        renames: vec![
            ("parent".into(), "boss".into(), "--parent".into()),
            ("child".into(), "worker".into(), "--child".into()),
        ],
        dest: dest.to_owned(),
        runtime: crate::Runtime::Kinode,
    }
}

fn read(dir: &Path, path: &str) -> String {
    std::fs::read_to_string(dir.join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn the_new_package_carries_the_new_names_wherever_they_matter() {
    let dest = scratch("names");
    let created = create(&template(), &request(&dest)).unwrap();
    assert_eq!(created.package_id, "my-app:someone.os");
    assert_eq!(created.processes, ["boss", "worker"]);

    let metadata = read(&dest, "metadata.json");
    let json: serde_json::Value = serde_json::from_str(&metadata).unwrap();
    assert_eq!(json["name"], "my-app");
    assert_eq!(json["properties"]["package_name"], "my-app");
    assert_eq!(json["properties"]["publisher"], "someone.os");
    assert_eq!(json["properties"]["code_hashes"]["0.1.0"], "");
    // The template's description is not the new package's.
    assert_eq!(
        json["description"],
        "TODO: what my-app does, in a sentence for the app store."
    );
    let readme = read(&dest, "README.md");
    assert!(readme.contains("`my-app:someone.os`: TODO, what this package does"));
    // The scenario reference and the common manifests come along.
    assert!(readme.contains("\n## Scenarios (the format)\n"), "{readme}");
    assert!(readme.contains("restart = \"node\""), "{readme}");
    assert!(readme.contains("\n## Common manifests\n"), "{readme}");
    assert!(!readme.contains("@SCENARIOS@") && !readme.contains("## Shipping it"));
    // Keys stay in the template's order.
    assert!(metadata.find("\"name\"").unwrap() < metadata.find("\"description\"").unwrap());

    let manifest: serde_json::Value =
        serde_json::from_str(&read(&dest, "pkg/manifest.json")).unwrap();
    assert_eq!(manifest[0]["process_name"], "boss");
    assert_eq!(manifest[0]["process_wasm_path"], "/boss.wasm");
    assert_eq!(
        manifest[0]["request_capabilities"][0],
        "http-client:distro:sys"
    );

    let parent = read(&dest, "boss/src/lib.rs");
    assert!(parent.contains("\"{}/pkg/worker.wasm\""));
    assert!(parent.contains("Some(\"spawned-worker-process\")"));
    assert!(!parent.contains("\"{}/pkg/child.wasm\""));
    assert!(read(&dest, "boss/Cargo.toml").contains("name = \"boss\""));
    assert!(read(&dest, "worker/Cargo.toml").contains("name = \"worker\""));
    assert!(!dest.join("parent").exists() && !dest.join("child").exists());

    let scenario = read(&dest, "tests/spawn.toml");
    assert!(scenario.contains("\"boss:my-app:someone.os\""));
    assert!(scenario.contains("\"spawned-worker-process:my-app:someone.os\""));
    assert!(!scenario.contains("template.os\""));
    let twin = read(&dest, "tests/without-http-client.toml");
    assert!(twin.contains("process = \"boss\""), "{twin}");

    let workspace = read(&dest, "Cargo.toml");
    let doc: toml_edit::DocumentMut = workspace.parse().unwrap();
    let members: Vec<_> = doc["workspace"]["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap().to_string())
        .collect();
    assert_eq!(members, ["boss", "worker"]);
    assert!(doc["workspace"].get("default-members").is_none());
    let deps: Vec<_> = doc["workspace"]["dependencies"]
        .as_table()
        .unwrap()
        .iter()
        .map(|(k, _)| k.to_string())
        .collect();
    assert_eq!(
        deps,
        [
            "kinode_process_lib",
            "wit-bindgen",
            "hyperware_process_lib",
            "wit-bindgen-hyperware"
        ]
    );
    assert!(doc["profile"].get("wasm-release").is_some());
    assert!(doc["profile"].get("dev").is_none());

    let makefile = read(&dest, "Makefile");
    assert!(makefile.contains("PROCESSES := boss worker"));
    assert!(makefile.contains("FLAVOR ?= kinode"));
    assert!(makefile.contains("include package.mk"));
    assert_eq!(read(&dest, "package.mk"), read(&template(), "package.mk"));
    assert!(read(&dest, "README.md").starts_with("# my-app\n"));
    std::fs::remove_dir_all(&dest).unwrap();
}

#[test]
fn only_sources_are_copied_never_the_harness_or_build_output() {
    let dest = scratch("sources");
    let created = create(&template(), &request(&dest)).unwrap();
    for file in &created.files {
        let first = file.iter().next().unwrap().to_str().unwrap();
        assert!(
            !matches!(
                first,
                "host-harness" | "componentize" | "target" | "bench" | ".ci"
            ),
            "{}",
            file.display()
        );
        assert!(
            file.extension().is_none_or(|e| e != "wasm"),
            "{}",
            file.display()
        );
    }
    assert!(dest.join("wit/kinode.wit").is_file());
    std::fs::remove_dir_all(&dest).unwrap();
}

#[test]
fn without_renames_the_processes_keep_their_names() {
    let dest = scratch("keep");
    let mut new = request(&dest);
    new.renames.clear();
    create(&template(), &new).unwrap();
    assert!(read(&dest, "parent/src/lib.rs").contains("Some(\"spawned-child-process\")"));
    assert!(read(&dest, "tests/spawn.toml").contains("\"parent:my-app:someone.os\""));
    std::fs::remove_dir_all(&dest).unwrap();
}

#[test]
fn bad_names_are_refused_before_anything_is_written() {
    let dest = scratch("bad");
    type Change = fn(&mut NewPackage);
    let cases: [(Change, &str); 6] = [
        (
            |n| n.name = "My_App".into(),
            "--name: package name `My_App`",
        ),
        (|n| n.name = "test".into(), "reserved"),
        (
            |n| n.publisher = "someone".into(),
            "--publisher: publisher `someone`",
        ),
        (
            |n| n.renames[0].1 = "Boss".into(),
            "--parent: process name `Boss`",
        ),
        (
            |n| n.renames[1].1 = "boss".into(),
            "two processes would share a name",
        ),
        (|n| n.renames[0].0 = "nobody".into(), "no process `nobody`"),
    ];
    for (change, expected) in cases {
        let mut new = request(&dest);
        change(&mut new);
        let error = create(&template(), &new).unwrap_err().to_string();
        assert!(error.contains(expected), "{error}");
        assert!(!dest.exists(), "{expected}: wrote {}", dest.display());
    }
}

#[test]
fn a_non_empty_destination_is_refused() {
    let dest = scratch("full");
    std::fs::create_dir_all(&dest).unwrap();
    std::fs::write(dest.join("keep.txt"), "mine").unwrap();
    let error = create(&template(), &request(&dest))
        .unwrap_err()
        .to_string();
    assert!(error.contains("is not empty"), "{error}");
    assert_eq!(read(&dest, "keep.txt"), "mine");
    assert_eq!(std::fs::read_dir(&dest).unwrap().count(), 1);
    std::fs::remove_dir_all(&dest).unwrap();
}
