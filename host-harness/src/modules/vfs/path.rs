//! vfs paths: `/package:publisher/drive/rest...`, normalised lexically
//! (`.` dropped, `..` pops, repeated and trailing `/` ignored, the leading
//! `/` optional) and never above the vfs root. The drive is what
//! capabilities name (`/package:publisher/drive`); the rest is the file.

use crate::types::PackageId;

use super::VfsError;

/// A checked vfs path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VfsPath {
    pub package: PackageId,
    /// `/package:publisher/drive`, as capabilities name it.
    pub drive: String,
    /// Components after the drive (empty: the drive itself).
    pub rest: Vec<String>,
}

impl std::fmt::Display for VfsPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.drive)?;
        for part in &self.rest {
            write!(f, "/{part}")?;
        }
        Ok(())
    }
}

impl VfsPath {
    pub fn parse(path: &str) -> Result<VfsPath, VfsError> {
        let trimmed = path.trim_start_matches('/').trim_start_matches('\\');
        let mut parts: Vec<&str> = Vec::new();
        for part in trimmed.split('/') {
            match part {
                "" | "." => {}
                ".." => {
                    parts.pop().ok_or(VfsError::MalformedRequest)?;
                }
                other => parts.push(other),
            }
        }
        let [package, drive, rest @ ..] = parts.as_slice() else {
            return Err(VfsError::MalformedRequest);
        };
        let package = PackageId::parse(package).ok_or(VfsError::MalformedRequest)?;
        Ok(VfsPath {
            drive: format!("/{package}/{drive}"),
            package,
            rest: rest.iter().map(|s| s.to_string()).collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(path: &str) -> Result<(String, Vec<String>), VfsError> {
        VfsPath::parse(path).map(|p| (p.drive, p.rest))
    }

    #[test]
    fn paths_normalise_like_the_node() {
        let drive = |d: &str, rest: &[&str]| {
            Ok((d.to_string(), rest.iter().map(|s| s.to_string()).collect()))
        };
        assert_eq!(parsed("/a:b/d"), drive("/a:b/d", &[]));
        assert_eq!(parsed("a:b/d/"), drive("/a:b/d", &[]));
        assert_eq!(parsed("//a:b/d"), drive("/a:b/d", &[]));
        assert_eq!(parsed("\\a:b/d"), drive("/a:b/d", &[]));
        assert_eq!(parsed("/a:b/./d//f"), drive("/a:b/d", &["f"]));
        assert_eq!(parsed("/a:b/d/../e/f"), drive("/a:b/e", &["f"]));
        // `..` may lead into another package: its capabilities apply.
        assert_eq!(parsed("/a:b/d/../../c:d/x"), drive("/c:d/x", &[]));
    }

    #[test]
    fn malformed_paths() {
        for bad in [
            "/",
            "",
            "/a:b",
            "/a:b/",
            "/a:b/..",
            "/a:b/d/..",
            "/../x",
            "/a:b/../../x/y",
            "/a:b/d/../../../../etc/passwd",
            "/ab/d",
            "/a:b:c/d",
            "/:b/d",
            "/a:/d",
        ] {
            assert_eq!(parsed(bad), Err(VfsError::MalformedRequest), "{bad}");
        }
    }
}
