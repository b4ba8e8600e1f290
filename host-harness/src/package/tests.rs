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

#[test]
fn capability_entries_the_app_store_cannot_read_are_skipped_as_it_skips_them() {
    // Each entry and what the app store does with it: kept, skipped with
    // its print, or skipped without a word.
    let manifest = entry("")
        .replace(
            r#""request_capabilities":[]"#,
            r#""request_capabilities":["vfs", "timer:distro:sys", {"process":"kv:distro:sys"},
               {"process":"Bad:x:y"}, {"params":"x"}, 7, "Http-Client:distro:sys"]"#,
        )
        .replace(
            r#""grant_capabilities":[]"#,
            r#""grant_capabilities":["nope", {"process":"a:b:c"}, {"params":1}, {"process":"q:t:x.os","params":"admin"}]"#,
        );
    let package = Package::load(&package_with(METADATA, &manifest)).unwrap();
    let p = &package.processes[0];
    let kept: Vec<String> = p
        .request_capabilities
        .iter()
        .map(|c| c.process.to_string())
        .collect();
    assert_eq!(kept, ["timer:distro:sys"]);
    assert_eq!(p.grant_capabilities.len(), 1);
    assert_eq!(p.grant_capabilities[0].params, "\"admin\"");
    let said: Vec<(&str, Option<&str>)> = p
        .skipped
        .iter()
        .map(|s| (s.field.as_str(), s.printed.as_deref()))
        .collect();
    assert_eq!(
        said,
        [
            (
                "request_capabilities[0]",
                Some("manifest requested invalid cap: \"vfs\"")
            ),
            (
                "request_capabilities[2]",
                Some(r#"manifest requested invalid cap: {"process":"kv:distro:sys"}"#)
            ),
            ("request_capabilities[3]", None),
            ("request_capabilities[4]", None),
            (
                "request_capabilities[5]",
                Some("manifest requested invalid cap: 7")
            ),
            (
                "request_capabilities[6]",
                Some("manifest requested invalid cap: \"Http-Client:distro:sys\"")
            ),
            (
                "grant_capabilities[0]",
                Some("p:t:x.os manifest tried to grant invalid cap: \"nope\"")
            ),
            ("grant_capabilities[1]", None),
            (
                "grant_capabilities[2]",
                Some(r#"p:t:x.os manifest tried to grant invalid cap: {"params":1}"#)
            ),
        ]
    );
}

#[test]
fn a_process_listed_twice_loads_and_on_exit_requests_must_carry_no_capabilities() {
    let one = entry("");
    let twice = format!("[{}, {}]", &one[1..one.len() - 1], &one[1..one.len() - 1]);
    let package = Package::load(&package_with(METADATA, &twice)).unwrap();
    assert_eq!(package.processes.len(), 2);

    let requests = |caps: &str| {
        entry("").replace(
            "\"None\"",
            &format!(
                r#"{{"Requests":[["our@timer:distro:sys",{{"inherit":false,"expects_response":null,"body":[],"metadata":null{caps}}},null]]}}"#
            ),
        )
    };
    let err = load_err(METADATA, &requests(""));
    assert!(err.contains("missing field `capabilities`"), "{err}");
    let err = load_err(
        METADATA,
        &requests(r#","capabilities":[{"issuer":"our@vfs:distro:sys","params":"\"messaging\""}]"#),
    );
    assert!(
        err.contains("[0].on_exit: Requests[0].capabilities must be empty"),
        "{err}"
    );
    assert!(Package::load(&package_with(METADATA, &requests(r#","capabilities":[]"#))).is_ok());
}
