//! The server's count of alive tokio tasks, in a file, for load runs: `/proc` shows a
//! process's threads and descriptors but not its tasks, and a task that never ends (a
//! leaked render, a connection nobody closes) is the leak a soak run must see.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::task::JoinHandle;

/// How often [`spawn_runtime_stats`] rewrites its file.
pub const RUNTIME_STATS_INTERVAL: Duration = Duration::from_secs(1);

/// Why [`spawn_runtime_stats`] (or [`spawn_runtime_stats_from_env`]) did not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RuntimeStatsError {
    /// It was called outside a tokio runtime.
    #[error(
        "no tokio runtime to count the tasks of: start the task counter from inside the \
         server's runtime (in `#[tokio::main] async fn main`)"
    )]
    NoRuntime,
    /// The environment variable is set, to nothing.
    #[error("{var} is set but empty (a file path, or unset it)")]
    EmptyPath {
        /// The variable's name.
        var: String,
    },
    /// The first count could not be written.
    #[error("cannot write the tokio task count to {}: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// What the file system said.
        #[source]
        source: std::io::Error,
    },
}

/// Starts a background task that, every second ([`RUNTIME_STATS_INTERVAL`]), replaces the
/// content of `path` with the number of tokio tasks alive in the current runtime: one
/// decimal integer and a newline (`"17\n"`), that task itself included. Each value is
/// written to `<path>.tmp` and renamed over `path`, so a reader never sees half of one.
///
/// For load runs of a server (this repository's `scripts/soak.sh`): the count must come
/// back to where it started once the load stops, or tasks leak. Call it from inside the
/// server's runtime, before it listens:
///
/// ```no_run
/// # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// authkit_leptos::testing::spawn_runtime_stats("/tmp/server.tasks")?;
/// // … axum::serve(listener, app).await
/// # Ok(()) }
/// ```
///
/// The first value is written before this returns; a later write that fails ends the task
/// with a message on standard error (no more counts: a reader sees the file go stale).
///
/// # Errors
/// [`RuntimeStatsError::NoRuntime`] outside a tokio runtime, and
/// [`RuntimeStatsError::Write`] when the first value cannot be written.
pub fn spawn_runtime_stats(path: impl Into<PathBuf>) -> Result<JoinHandle<()>, RuntimeStatsError> {
    let path = path.into();
    let runtime =
        tokio::runtime::Handle::try_current().map_err(|_| RuntimeStatsError::NoRuntime)?;
    let metrics = runtime.metrics();
    // Spawned first, so that the first value counts it too; it writes from the second tick
    // on, so the two writers never race.
    let counter = runtime.spawn({
        let path = path.clone();
        let metrics = metrics.clone();
        async move {
            let mut tick = tokio::time::interval(RUNTIME_STATS_INTERVAL);
            tick.tick().await; // at once: the caller writes this one
            loop {
                tick.tick().await;
                if let Err(e) = write_alive_tasks(&path, metrics.num_alive_tasks()) {
                    eprintln!(
                        "authkit-leptos: cannot write the tokio task count to {}: {e}; no more counts",
                        path.display()
                    );
                    return;
                }
            }
        }
    });
    if let Err(source) = write_alive_tasks(&path, metrics.num_alive_tasks()) {
        counter.abort();
        return Err(RuntimeStatsError::Write { path, source });
    }
    Ok(counter)
}

/// [`spawn_runtime_stats`] to the file named by the environment variable `var`, when it
/// is set; `Ok(None)` (nothing started) when it is not. One line in a server's `main`
/// makes the count available to a load run without changing anything else:
///
/// ```no_run
/// # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// authkit_leptos::testing::spawn_runtime_stats_from_env("MY_APP_RUNTIME_STATS")?;
/// # Ok(()) }
/// ```
///
/// # Errors
/// [`RuntimeStatsError::EmptyPath`] when `var` is set to an empty value, else those of
/// [`spawn_runtime_stats`].
pub fn spawn_runtime_stats_from_env(
    var: &str,
) -> Result<Option<JoinHandle<()>>, RuntimeStatsError> {
    spawn_for_value(var, std::env::var_os(var))
}

fn spawn_for_value(
    var: &str,
    value: Option<OsString>,
) -> Result<Option<JoinHandle<()>>, RuntimeStatsError> {
    match value {
        None => Ok(None),
        Some(path) if path.is_empty() => Err(RuntimeStatsError::EmptyPath {
            var: var.to_owned(),
        }),
        Some(path) => spawn_runtime_stats(path).map(Some),
    }
}

/// Replaces the content of `path` with `count` (through `<path>.tmp` and a rename).
fn write_alive_tasks(path: &Path, count: usize) -> std::io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    std::fs::write(&tmp, format!("{count}\n"))?;
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh path in the system's temporary directory (removed by the test).
    fn temp_path(name: &str) -> PathBuf {
        std::env::temp_dir().join(format!(
            "authkit-runtime-stats-{}-{name}",
            std::process::id()
        ))
    }

    fn read_count(path: &Path) -> usize {
        let text = std::fs::read_to_string(path).unwrap();
        assert!(text.ends_with('\n'), "{text:?}");
        text.trim_end().parse().unwrap()
    }

    /// Waits (up to 10 s) until the file shows `want`.
    async fn eventually(path: &Path, want: usize) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let got = read_count(path);
            if got == want {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "count {got}, want {want}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    #[tokio::test]
    async fn writes_the_count_at_once_and_every_second() {
        let path = temp_path("counts");
        let counter = spawn_runtime_stats(&path).unwrap();
        // Nothing else runs in this test's runtime: the counter alone.
        assert_eq!(
            read_count(&path),
            1,
            "written before it returns, itself included"
        );

        let sleepers: Vec<_> = (0..5)
            .map(|_| tokio::spawn(tokio::time::sleep(Duration::from_secs(3600))))
            .collect();
        eventually(&path, 6).await;
        assert!(!Path::new(&format!("{}.tmp", path.display())).exists());

        for sleeper in sleepers {
            sleeper.abort();
            let _ = sleeper.await;
        }
        eventually(&path, 1).await;

        counter.abort();
        let _ = counter.await;
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn outside_a_runtime_it_says_where_to_call_it() {
        let err = spawn_runtime_stats(temp_path("no-runtime")).unwrap_err();
        assert!(matches!(err, RuntimeStatsError::NoRuntime));
        assert!(err.to_string().contains("#[tokio::main]"), "{err}");
    }

    #[tokio::test]
    async fn an_unwritable_path_fails_at_once_naming_it() {
        let path = temp_path("missing-dir").join("tasks");
        let err = spawn_runtime_stats(&path).unwrap_err();
        assert!(matches!(err, RuntimeStatsError::Write { .. }));
        assert!(
            err.to_string().contains(&path.display().to_string()),
            "{err}"
        );
    }

    #[tokio::test]
    async fn from_env_is_off_when_unset_and_refuses_an_empty_path() {
        assert!(spawn_for_value("APP_STATS", None).unwrap().is_none());
        let err = spawn_for_value("APP_STATS", Some(OsString::new())).unwrap_err();
        assert_eq!(
            err.to_string(),
            "APP_STATS is set but empty (a file path, or unset it)"
        );

        let path = temp_path("from-env");
        let counter = spawn_for_value("APP_STATS", Some(path.clone().into_os_string()))
            .unwrap()
            .expect("started");
        assert_eq!(read_count(&path), 1);
        counter.abort();
        let _ = counter.await;
        std::fs::remove_file(&path).unwrap();
    }
}
