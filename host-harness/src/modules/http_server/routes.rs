//! Bound paths and how an incoming URL finds one, as the node's router
//! does: a segment `:name` matches one segment and captures it, `*name`
//! matches the rest; the binding with the most literal segments wins; a
//! path nothing matches falls back to its first segment (a process's `/`
//! binding serves everything under it).

use std::collections::HashMap;

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
}

#[derive(Default)]
pub struct Routes {
    bindings: Vec<Binding>,
}

/// A path as the node stores it: one trailing `/` dropped.
pub fn normalise(path: &str) -> &str {
    path.strip_suffix('/').unwrap_or(path)
}

/// Where a process's `path` is bound: under its own id.
pub fn bound_path(process: &ProcessId, path: &str) -> String {
    let path = normalise(path);
    if path.is_empty() || path.starts_with('/') {
        format!("/{process}{path}")
    } else {
        format!("/{process}/{path}")
    }
}

impl Routes {
    /// Adds or replaces the binding of its path.
    pub fn bind(&mut self, binding: Binding) {
        self.bindings.retain(|b| b.path != binding.path);
        self.bindings.push(binding);
    }

    /// The binding for `path` and its URL parameters.
    pub fn find(&self, path: &str) -> Option<(&Binding, HashMap<String, String>)> {
        let path = normalise(path);
        if let Some(found) = self.best(path) {
            return Some(found);
        }
        let first = path.split('/').nth(1)?;
        self.best(&format!("/{first}"))
            .map(|(binding, _)| (binding, HashMap::new()))
    }

    /// The best match: most literal segments, then most `:params`, a
    /// wildcard last; among equals, the first bound.
    fn best(&self, path: &str) -> Option<(&Binding, HashMap<String, String>)> {
        let mut best: Option<(&Binding, HashMap<String, String>, Rank)> = None;
        for binding in &self.bindings {
            if let Some((params, rank)) = matches(&binding.path, path) {
                if best.as_ref().is_none_or(|(_, _, r)| rank > *r) {
                    best = Some((binding, params, rank));
                }
            }
        }
        best.map(|(binding, params, _)| (binding, params))
    }
}

/// How good a match is: literal segments, then `:params`, then no
/// wildcard.
type Rank = (usize, usize, bool);

/// Whether `path` matches `pattern`: its parameters and the match's rank.
fn matches(pattern: &str, path: &str) -> Option<(HashMap<String, String>, Rank)> {
    let wanted: Vec<&str> = pattern.split('/').filter(|s| !s.is_empty()).collect();
    let given: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let mut params = HashMap::new();
    let (mut literal, mut dynamic) = (0, 0);
    for (index, segment) in wanted.iter().enumerate() {
        if let Some(name) = segment.strip_prefix('*') {
            let rest = given.get(index..).filter(|r| !r.is_empty())?;
            if !name.is_empty() {
                params.insert(name.to_string(), rest.join("/"));
            }
            return Some((params, (literal, dynamic, false)));
        }
        let part = given.get(index)?;
        match segment.strip_prefix(':') {
            Some(name) => {
                dynamic += 1;
                if !name.is_empty() {
                    params.insert(name.to_string(), part.to_string());
                }
            }
            None if segment == part => literal += 1,
            None => return None,
        }
    }
    (wanted.len() == given.len()).then_some((params, (literal, dynamic, true)))
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
        }
    }

    #[test]
    fn paths_are_bound_under_the_process() {
        let p = ProcessId::new("a", "b", "c.os");
        assert_eq!(bound_path(&p, "/"), "/a:b:c.os");
        assert_eq!(bound_path(&p, "/games/"), "/a:b:c.os/games");
        assert_eq!(bound_path(&p, "games"), "/a:b:c.os/games");
    }

    #[test]
    fn urls_find_their_binding_with_parameters_and_fallback() {
        let mut routes = Routes::default();
        for path in [
            "/a:b:c.os",
            "/a:b:c.os/item/:id",
            "/a:b:c.os/item/new",
            "/a:b:c.os/files/*rest",
        ] {
            routes.bind(binding(path));
        }
        let (b, params) = routes.find("/a:b:c.os/item/42/").unwrap();
        assert_eq!(
            (b.path.as_str(), params["id"].as_str()),
            ("/a:b:c.os/item/:id", "42")
        );
        let (b, _) = routes.find("/a:b:c.os/item/new").unwrap();
        assert_eq!(b.path, "/a:b:c.os/item/new", "literal beats parameter");
        routes.bind(binding("/a:b:c.os/files/:one"));
        let (b, _) = routes.find("/a:b:c.os/files/x").unwrap();
        assert_eq!(b.path, "/a:b:c.os/files/:one", "parameter beats wildcard");
        let (_, params) = routes.find("/a:b:c.os/files/x/y.txt").unwrap();
        assert_eq!(params["rest"], "x/y.txt");
        let (b, params) = routes.find("/a:b:c.os/somewhere/else").unwrap();
        assert_eq!(b.path, "/a:b:c.os", "falls back to the process's root");
        assert!(params.is_empty());
        assert!(routes.find("/other:p:x.os/y").is_none());
    }
}
