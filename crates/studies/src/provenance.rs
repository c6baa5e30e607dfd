//! What a study report records about how it was made (issue 17): the feynn version, the
//! machine and the time, beside the settings and seeds each report already holds.

use serde::{Deserialize, Serialize};

/// The version, machine and start time of a study run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Provenance {
    /// The feynn version (the studies crate is versioned with the core).
    pub feynn_version: String,
    /// Operating system and architecture, e.g. `linux x86_64`.
    pub platform: String,
    /// Logical CPUs available to the run.
    pub cpus: usize,
    /// The CPU model, where the system says it (`/proc/cpuinfo`).
    pub cpu_model: Option<String>,
    /// Start of the run, seconds since the Unix epoch (UTC).
    pub started_unix: u64,
    /// Whether this was a release build (timings of a debug build are not comparable).
    pub release_build: bool,
}

impl Provenance {
    /// The provenance of a run starting now.
    pub fn now() -> Provenance {
        let cpu_model = std::fs::read_to_string("/proc/cpuinfo").ok().and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        });
        Provenance {
            feynn_version: env!("CARGO_PKG_VERSION").to_string(),
            platform: format!("{} {}", std::env::consts::OS, std::env::consts::ARCH),
            cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
            cpu_model,
            started_unix: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            release_build: !cfg!(debug_assertions),
        }
    }
}
