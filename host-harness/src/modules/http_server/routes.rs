//! Bound paths and how an incoming URL finds one. The node keeps its
//! bindings in a `route_recognizer` 0.3.1 `Router`, and so does the
//! harness, the same version: its matching has quirks a package can run
//! into (a pattern splits at `.` as well as `/`, so `:name.json` is a
//! parameter and a literal `.json`; a parameter matches any run of
//! characters but `/`, dots included; the best match has the most literal
//! pieces, then the most parameters, then the most wildcards; a pattern
//! bound again replaces the first), and its own code gets them right
//! where a copy might not. HTTP falls back to the process's `/` binding
//! (the request's first segment); WebSocket paths do not.

use std::collections::HashMap;

use route_recognizer::Router;

use crate::types::ProcessId;

#[derive(Debug, Clone)]
pub struct Binding {
    /// `/{process}{path}`, as stored.
    pub path: String,
    /// `None` after `Unbind`: the path answers 404.
    pub process: Option<ProcessId>,
    pub authenticated: bool,
    pub local_only: bool,
    /// Served by the server itself on GET: (content type, bytes).
    pub content: Option<(Option<String>, Vec<u8>)>,
    /// `SecureBind`: the host's first label a request must come with.
    pub secure_subdomain: Option<String>,
}

#[derive(Default)]
pub struct Routes {
    router: Router<Binding>,
}

/// A path as the node reads a request's: one trailing `/` dropped.
pub fn normalise(path: &str) -> &str {
    path.strip_suffix('/').unwrap_or(path)
}

/// Where a process's `path` is bound, by the node's rule: under its own
/// id, one trailing `/` dropped, a `/` put between if the path has none.
/// So `""` is bound at `/{process}/`, which no request reaches (each
/// loses its trailing `/`).
pub fn bound_path(process: &ProcessId, path: &str) -> String {
    if path.starts_with('/') {
        format!("/{process}{}", normalise(path))
    } else {
        format!("/{process}/{}", normalise(path))
    }
}

/// Whether a request's path can ever reach a binding at `stored`: not
/// when it ends in `/`, unless the request's path ends in `//`.
pub fn reachable(stored: &str) -> bool {
    !stored.ends_with('/')
}

/// The secure subdomain a node gives `process`'s `SecureBind`ings: its
/// package and publisher joined by `-`, every other character that is
/// not an ASCII letter or digit made `-` (`my-app:me.os` is `my-app-me-os`).
pub fn secure_subdomain(process: &ProcessId) -> String {
    format!("{}-{}", process.package_name, process.publisher_node)
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

impl Routes {
    /// Adds or replaces the binding of its path.
    pub fn bind(&mut self, binding: Binding) {
        // route-recognizer panics on a pattern starting with a multi-byte
        // character and (with overflow checks, as in tests) on a NUL;
        // neither can match a request, whose path is ASCII without NUL.
        let pattern = binding.path.strip_prefix('/').unwrap_or(&binding.path);
        if pattern.starts_with(|c: char| !c.is_ascii()) || pattern.contains('\0') {
            return;
        }
        let path = binding.path.clone();
        self.router.add(&path, binding);
    }

    /// The binding for exactly `path` and its URL parameters, as a node
    /// finds a WebSocket binding.
    pub fn find(&self, path: &str) -> Option<(&Binding, HashMap<String, String>)> {
        let found = self.router.recognize(path).ok()?;
        let params = found
            .params()
            .iter()
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect();
        Some((*found.handler(), params))
    }

    /// The binding for `path`, or else for its first segment (a process's
    /// `/` binding serves every path under it that nothing else matches),
    /// as a node finds an HTTP binding.
    pub fn find_or_base(&self, path: &str) -> Option<(&Binding, HashMap<String, String>)> {
        if let Some(found) = self.find(path) {
            return Some(found);
        }
        let base = path.split('/').nth(1).unwrap_or("");
        self.find(base)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn binding(path: &str) -> Binding {
        Binding {
            path: path.into(),
            process: Some(ProcessId::new("a", "b", "c.os")),
            authenticated: false,
            local_only: false,
            content: None,
            secure_subdomain: None,
        }
    }

    fn table(paths: &[&str]) -> Routes {
        let mut routes = Routes::default();
        for path in paths {
            routes.bind(binding(path));
        }
        routes
    }

    #[test]
    fn paths_are_bound_under_the_process_as_a_node_does() {
        let p = ProcessId::new("a", "b", "c.os");
        assert_eq!(bound_path(&p, "/"), "/a:b:c.os");
        assert_eq!(bound_path(&p, "/games/"), "/a:b:c.os/games");
        assert_eq!(bound_path(&p, "games"), "/a:b:c.os/games");
        // The empty path keeps a trailing `/`: no request reaches it.
        assert_eq!(bound_path(&p, ""), "/a:b:c.os/");
        assert!(!reachable(&bound_path(&p, "")));
        assert!(reachable(&bound_path(&p, "/")));
    }

    #[test]
    fn urls_find_their_binding_with_parameters_and_fallback() {
        let routes = table(&[
            "/a:b:c.os",
            "/a:b:c.os/item/:id",
            "/a:b:c.os/item/new",
            "/a:b:c.os/files/*rest",
            "/a:b:c.os/files/:one",
        ]);
        let (b, params) = routes.find_or_base("/a:b:c.os/item/42").unwrap();
        assert_eq!(
            (b.path.as_str(), params["id"].as_str()),
            ("/a:b:c.os/item/:id", "42")
        );
        let (b, _) = routes.find_or_base("/a:b:c.os/item/new").unwrap();
        assert_eq!(b.path, "/a:b:c.os/item/new", "literal beats parameter");
        let (b, _) = routes.find_or_base("/a:b:c.os/files/x").unwrap();
        assert_eq!(b.path, "/a:b:c.os/files/:one", "parameter beats wildcard");
        let (_, params) = routes.find_or_base("/a:b:c.os/files/x/y.txt").unwrap();
        assert_eq!(params["rest"], "x/y.txt");
        let (b, params) = routes.find_or_base("/a:b:c.os/somewhere/else").unwrap();
        assert_eq!(b.path, "/a:b:c.os", "falls back to the process's root");
        assert!(params.is_empty());
        assert!(routes.find("/a:b:c.os/somewhere/else").is_none(), "exact");
        assert!(routes.find_or_base("/other:p:x.os/y").is_none());
    }

    #[test]
    fn dots_split_patterns_as_route_recognizer_does() {
        let routes = table(&["/a:b:c.os/file/:name.json", "/a:b:c.os/v/:id"]);
        let (b, params) = routes.find("/a:b:c.os/file/a.json").unwrap();
        assert_eq!(b.path, "/a:b:c.os/file/:name.json");
        assert_eq!(params["name"], "a");
        assert!(routes.find("/a:b:c.os/file/a.txt").is_none());
        // A parameter takes dots: the whole `1.5.json`.
        let (_, params) = routes.find("/a:b:c.os/v/1.5.json").unwrap();
        assert_eq!(params["id"], "1.5.json");
        // Ranking counts dotted pieces: `:id.json` has one literal piece
        // more than `:id`, so it wins where both match.
        let routes = table(&["/a:b:c.os/v/:id", "/a:b:c.os/v/:id.json"]);
        let (b, params) = routes.find("/a:b:c.os/v/7.json").unwrap();
        assert_eq!(
            (b.path.as_str(), params["id"].as_str()),
            ("/a:b:c.os/v/:id.json", "7")
        );
    }

    #[test]
    fn the_empty_path_is_reached_only_by_a_double_slash() {
        let routes = table(&["/a:b:c.os/"]);
        assert!(routes.find_or_base(normalise("/a:b:c.os/")).is_none());
        assert!(routes.find_or_base("/a:b:c.os").is_none());
        assert!(routes.find_or_base(normalise("/a:b:c.os//")).is_some());
    }

    #[test]
    fn unroutable_patterns_are_left_out_without_a_panic() {
        let routes = table(&["/é:b:c.os/x", "/a:b:c.os/\0"]);
        assert!(routes.find("/a:b:c.os/x").is_none());
    }

    #[test]
    fn secure_subdomains_are_the_package_and_publisher() {
        let p = ProcessId::new("app", "my-app", "me.os");
        assert_eq!(secure_subdomain(&p), "my-app-me-os");
    }
}
