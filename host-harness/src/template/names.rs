//! The names `new` accepts, by the node's rules, checked before anything
//! is written.

use crate::types::check_process_name;

/// A package name: what a process name may be (`a-z`, `0-9`, `-`), and not
/// `api` or `test`, which kit keeps for itself (`pkg/api.zip`, `test/`).
pub fn check_package_name(name: &str) -> Result<(), String> {
    if check_process_name(name).is_err() {
        return Err(format!(
            "package name `{name}` may only contain a-z, 0-9 and `-`"
        ));
    }
    if matches!(name, "api" | "test") {
        return Err(format!(
            "package name `{name}` is reserved by kit (`api`, `test`)"
        ));
    }
    Ok(())
}

/// A process name, as the kernel checks it at spawn.
pub fn check_process(name: &str) -> Result<(), String> {
    check_process_name(name)
        .map_err(|_| format!("process name `{name}` may only contain a-z, 0-9 and `-`"))
}

/// A publisher: a node name such as `me.os`: two or more dot-separated
/// labels of `a-z`, `0-9` and `-`.
pub fn check_publisher(name: &str) -> Result<(), String> {
    let labels: Vec<&str> = name.split('.').collect();
    let label_ok = |label: &&str| {
        !label.is_empty()
            && label
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    };
    if labels.len() >= 2 && labels.iter().all(label_ok) {
        Ok(())
    } else {
        Err(format!(
            "publisher `{name}` must be a node name such as `me.os`: \
             dot-separated labels of a-z, 0-9 and `-`"
        ))
    }
}

/// The longest id a node can name a file by (`state/<id>`): a file name.
const MAX_ID_BYTES: usize = 255;

/// Whether the ids `process:package:publisher` of the new package (the
/// longest process name among `processes`) fit in a file name.
pub fn check_lengths(package: &str, publisher: &str, processes: &[&str]) -> Result<(), String> {
    let longest = processes.iter().map(|p| p.len()).max().unwrap_or(0);
    let bytes = longest + 1 + package.len() + 1 + publisher.len();
    if bytes > MAX_ID_BYTES {
        return Err(format!(
            "the process ids would be up to {bytes} bytes (`process:{package}:{publisher}`); a \
             node names files by them, and a file name holds at most {MAX_ID_BYTES}: choose \
             shorter names"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_names_follow_the_kernel_and_avoid_kits_reserved_ones() {
        assert!(check_package_name("my-app2").is_ok());
        for bad in ["", "My-App", "my_app", "my app", "api", "test", "a.b"] {
            assert!(check_package_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn publishers_are_node_names() {
        for good in ["me.os", "my-node.dev.os", "x1.y"] {
            assert!(check_publisher(good).is_ok(), "{good}");
        }
        for bad in ["me", ".os", "me.", "me..os", "Me.os", "me_1.os", ""] {
            assert!(check_publisher(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn ids_must_fit_a_file_name() {
        assert!(check_lengths("my-app", "me.os", &["parent", "child"]).is_ok());
        let long = "a".repeat(300);
        let err = check_lengths(&long, "me.os", &["parent"]).unwrap_err();
        assert!(err.contains("up to 313 bytes"), "{err}");
    }

    #[test]
    fn process_names_follow_the_kernel() {
        assert!(check_process("worker-2").is_ok());
        assert!(check_process("spawned_child").is_err());
    }
}
