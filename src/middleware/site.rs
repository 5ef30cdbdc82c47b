//! The site's own files (cargo-leptos's `/pkg/…` and the assets copied into the site
//! root), which the layer never covers: a static file does not depend on the session, so
//! resolving one for it would only cost a cookie read and, worse, mark the wasm, JS and
//! CSS `private, no-store` and `Vary: Cookie` for every signed-in visitor.

use std::collections::HashSet;
use std::path::{Component, Path, PathBuf};

/// Where Leptos serves the site from: `site_root` (the directory
/// `leptos_axum::file_and_error_handler` serves) and `site_pkg_dir` under it.
#[derive(Clone, Debug)]
pub(super) struct SiteFiles {
    /// `/{site_pkg_dir}/`: every path under it is a site file, without a look at the disk
    /// (cargo-leptos writes only build output there).
    pkg_prefix: String,
    root: PathBuf,
    /// The names at the top of `site_root`, read once: a request
    /// whose first segment is not one of them cannot be a file there, so pages cost no
    /// look at the disk.
    top_level: HashSet<String>,
}

impl SiteFiles {
    /// The site in `site_root` with build output in `site_root/site_pkg_dir`, as
    /// `LeptosOptions` names them.
    pub(super) fn new(site_root: &str, site_pkg_dir: &str) -> Self {
        let pkg = site_pkg_dir.trim_matches('/');
        let root = PathBuf::from(site_root);
        let top_level = std::fs::read_dir(&root)
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .filter_map(|e| e.file_name().into_string().ok())
                    .collect()
            })
            .unwrap_or_default();
        Self {
            pkg_prefix: format!("/{pkg}/"),
            root,
            top_level,
        }
    }

    /// The site as `leptos::config::get_configuration(None)` finds it: `LEPTOS_SITE_ROOT`
    /// and `LEPTOS_SITE_PKG_DIR` (cargo-leptos sets both when it runs the server), else
    /// Leptos's defaults, `target/site` and `pkg`.
    pub(super) fn from_env() -> Self {
        let var = |name: &str, default: &str| {
            std::env::var(name)
                .ok()
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| default.to_owned())
        };
        Self::new(
            &var("LEPTOS_SITE_ROOT", "target/site"),
            &var("LEPTOS_SITE_PKG_DIR", "pkg"),
        )
    }

    /// Whether `path` (as requested: percent-encoded, no query) names one of the site's
    /// files: anything under the pkg dir, else a file that exists under the site root.
    pub(super) fn contains(&self, path: &str) -> bool {
        if path.starts_with(&self.pkg_prefix) {
            return true;
        }
        let Some(rest) = path.strip_prefix('/') else {
            return false;
        };
        let first = rest.split('/').next().unwrap_or_default();
        if first.is_empty() || self.top_level.is_empty() {
            return false;
        }
        let first = percent_encoding::percent_decode_str(first).decode_utf8_lossy();
        if !self.top_level.contains(first.as_ref()) {
            return false;
        }
        // As tower-http's ServeDir decodes it; only plain segments, so nothing outside
        // the root is ever looked at.
        let decoded = percent_encoding::percent_decode_str(rest).decode_utf8_lossy();
        let relative = Path::new(decoded.as_ref());
        if !relative
            .components()
            .all(|c| matches!(c, Component::Normal(_)))
        {
            return false;
        }
        self.root.join(relative).is_file()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site() -> (SiteFiles, PathBuf) {
        let root = std::env::temp_dir().join(format!(
            "authkit-site-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("pkg")).unwrap();
        std::fs::create_dir_all(root.join("images")).unwrap();
        std::fs::write(root.join("favicon.ico"), b"icon").unwrap();
        std::fs::write(root.join("images/logo one.png"), b"png").unwrap();
        std::fs::write(root.join("pkg/app.wasm"), b"wasm").unwrap();
        (SiteFiles::new(root.to_str().unwrap(), "pkg"), root)
    }

    #[test]
    fn pkg_files_and_existing_files_are_site_files() {
        let (site, root) = site();
        assert!(site.contains("/pkg/app.wasm"));
        assert!(site.contains("/pkg/not-built-yet.js"));
        assert!(site.contains("/favicon.ico"));
        assert!(site.contains("/images/logo%20one.png"));
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn pages_and_missing_files_are_not() {
        let (site, root) = site();
        for page in [
            "/",
            "/about",
            "/pkg",
            "/api/authkit/snapshot",
            "/images",
            "/images/",
            "/images/missing.png",
            "/images/../favicon.ico",
            "/images/%2e%2e/favicon.ico",
            "//favicon.ico",
            "",
            "pkg/app.wasm",
        ] {
            assert!(!site.contains(page), "{page}");
        }
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn a_missing_site_root_has_only_the_pkg_dir() {
        let site = SiteFiles::new("/nonexistent/authkit-site", "/static/pkg/");
        assert!(site.contains("/static/pkg/app.js"));
        assert!(!site.contains("/favicon.ico"));
        assert!(!site.contains("/pkg/app.js"));
    }
}
