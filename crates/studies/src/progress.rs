//! Progress of long study work (sampling, training, data generation) as a callback: the
//! studies say what they are doing, the program that runs them draws it. The CLI installs an
//! indicatif bar ([`install`]); a library user installs their own, or nothing (silent).

use std::sync::OnceLock;

/// One progress display, created by the installed [`Factory`].
pub trait Bar: Send + Sync {
    /// The total number of steps changed (e.g. once the thinning of a chain is known).
    fn set_length(&self, len: u64);
    /// `n` more steps done.
    fn inc(&self, n: u64);
    /// Steps done so far.
    fn set_position(&self, pos: u64);
    /// A short status text beside the bar (losses, the current phase).
    fn set_message(&self, msg: String);
    /// The work is over: remove the display.
    fn finish(&self);
}

/// Makes a [`Bar`] for `len` steps of a unit (`"epoch"`, `"HMC"`, `"configurations"`, …).
pub type Factory = dyn Fn(u64, &str) -> Box<dyn Bar> + Send + Sync;

static FACTORY: OnceLock<Box<Factory>> = OnceLock::new();

/// Install the process-wide progress display; false if one was installed already.
pub fn install(factory: Box<Factory>) -> bool {
    FACTORY.set(factory).is_ok()
}

/// A handle on the progress of one piece of work; does nothing when `show` was false or no
/// display is installed.
pub struct Progress(Option<Box<dyn Bar>>);

impl Progress {
    /// Start the progress of `len` steps of `unit`, shown only when `show` is true.
    pub fn start(len: u64, unit: &str, show: bool) -> Progress {
        Progress(show.then(|| FACTORY.get().map(|f| f(len, unit))).flatten())
    }
    /// See [`Bar::set_length`].
    pub fn set_length(&self, len: u64) {
        if let Some(b) = &self.0 {
            b.set_length(len)
        }
    }
    /// See [`Bar::inc`].
    pub fn inc(&self, n: u64) {
        if let Some(b) = &self.0 {
            b.inc(n)
        }
    }
    /// See [`Bar::set_position`].
    pub fn set_position(&self, pos: u64) {
        if let Some(b) = &self.0 {
            b.set_position(pos)
        }
    }
    /// See [`Bar::set_message`]; the text is built only when a display is shown.
    pub fn set_message(&self, msg: impl FnOnce() -> String) {
        if let Some(b) = &self.0 {
            b.set_message(msg())
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(b) = &self.0 {
            b.finish()
        }
    }
}
