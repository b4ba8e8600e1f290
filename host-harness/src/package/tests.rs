use super::*;
use crate::types::MESSAGING;

fn repo_package() -> Package {
    Package::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("..")).unwrap()
}

/// A package directory in a fresh temp dir, with the given files.
fn package_with(metadata: &str, manifest: &str) -> PathBuf {
    static COUNT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = COUNT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let dir = std::env::temp_dir().join(format!("harness-pkg-{}-{n}", std::process::id()));
    std::fs::create_dir_all(dir.join("pkg")).unwrap();
    std::fs::write(dir.join("metadata.json"), metadata).unwrap();
    std::fs::write(dir.join("pkg/manifest.json"), manifest).unwrap();
    dir
}

const METADATA: &str = r#"{"name":"t","description":"","image":"","external_url":"","animation_url":"",
  "properties":{"package_name":"t","publisher":"x.os","current_version":"0.1.0","mirrors":[],
  "code_hashes":{},"wit_version":1,"dependencies":[]}}"#;

fn entry(fields: &str) -> String {
    format!(
        r#"[{{"process_name":"p","process_wasm_path":"/p.wasm","on_exit":"None",
        "request_networking":false,"request_capabilities":[],"grant_capabilities":[],"public":false{fields}}}]"#
    )
}

fn load_err(metadata: &str, manifest: &str) -> String {
    Package::load(&package_with(metadata, manifest))
        .unwrap_err()
        .to_string()
}

#[test]
fn our_package_parses_in_the_runtime_schema() {
    let package = repo_package();
    assert_eq!(package.id.to_string(), "spawn:template.os");
    assert_eq!(package.metadata.properties.wit_version, Some(1));
    let [parent] = package.processes.as_slice() else {
        panic!("one manifest process expected, the parent");
    };
    assert_eq!(parent.id.to_string(), "parent:spawn:template.os");
    assert!(matches!(parent.on_exit, OnExit::None));
    assert!(!parent.public);
    let requested: Vec<String> = parent
        .request_capabilities
        .iter()
        .map(|c| format!("{} {}", c.process, c.params))
        .collect();
    assert_eq!(
        requested,
        [
            format!("http-client:distro:sys {MESSAGING}"),
            format!("vfs:distro:sys {MESSAGING}")
        ]
    );
}

#[test]
fn both_capability_forms_and_all_on_exit_forms_parse() {
    let manifest = r#"[{"process_name":"p","process_wasm_path":"/p.wasm",
      "on_exit":{"Requests":[["our@timer:distro:sys",
         {"inherit":false,"expects_response":null,"body":[104,105],"metadata":null,"capabilities":[]},
         null]]},
      "request_networking":true,
      "request_capabilities":["timer:distro:sys",{"process":"vfs:distro:sys","params":{"kind":"read","drive":"/t:x.os/pkg"}}],
      "grant_capabilities":[{"process":"http-client:distro:sys","params":"messaging"}],
      "public":true}]"#;
    let package = Package::load(&package_with(METADATA, manifest)).unwrap();
    let p = &package.processes[0];
    assert_eq!(p.request_capabilities[0].params, MESSAGING);
    assert_eq!(
        p.request_capabilities[1].params,
        r#"{"drive":"/t:x.os/pkg","kind":"read"}"#
    );
    assert_eq!(p.grant_capabilities[0].params, MESSAGING);
    let OnExit::Requests(requests) = &p.on_exit else {
        panic!("Requests expected")
    };
    assert_eq!(requests[0].0.to_string(), "our@timer:distro:sys");
    assert_eq!(requests[0].1.body, b"hi");
    for (on_exit, restart) in [("\"Restart\"", true), ("\"None\"", false)] {
        let manifest = entry("").replace("\"None\"", on_exit);
        let package = Package::load(&package_with(METADATA, &manifest)).unwrap();
        assert_eq!(
            matches!(package.processes[0].on_exit, OnExit::Restart),
            restart
        );
    }
}

#[test]
fn a_missing_field_is_named_with_its_file() {
    let manifest = entry("").replace(r#","public":false"#, "");
    let err = load_err(METADATA, &manifest);
    assert!(
        err.contains("pkg/manifest.json: invalid JSON: missing field `public`"),
        "{err}"
    );
}

#[test]
fn bad_entries_name_the_field() {
    let err = load_err(METADATA, &entry("").replace("\"p\",", "\"my_process\","));
    assert!(
        err.contains("[0].process_name: Process name (my_process)"),
        "{err}"
    );
    let err = load_err(
        METADATA,
        &entry("").replace(
            r#""request_capabilities":[]"#,
            r#""request_capabilities":["vfs"]"#,
        ),
    );
    assert!(
        err.contains("[0].request_capabilities[0]: `vfs` is not a process id"),
        "{err}"
    );
    let err = load_err(
        METADATA,
        &entry("").replace("\"/p.wasm\"", "\"/../p.wasm\""),
    );
    assert!(err.contains("[0].process_wasm_path"), "{err}");
    let err = load_err(METADATA, &entry("").replace("\"None\"", "\"Sometimes\""));
    assert!(err.contains("unknown variant `Sometimes`"), "{err}");
}

#[test]
fn bad_metadata_is_named() {
    let err = load_err(&METADATA.replace("\"x.os\"", "\"X OS\""), &entry(""));
    assert!(err.contains("metadata.json: properties.publisher"), "{err}");
    let err = load_err(
        &METADATA.replace("\"current_version\":\"0.1.0\",", ""),
        &entry(""),
    );
    assert!(
        err.contains("metadata.json: invalid JSON: missing field `current_version`"),
        "{err}"
    );
}

#[test]
fn a_missing_directory_is_named() {
    let err = Package::load(Path::new("/no/such/package"))
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("/no/such/package/metadata.json: cannot read"),
        "{err}"
    );
}
