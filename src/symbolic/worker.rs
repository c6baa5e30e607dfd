//! The one thread that talks to Symbolica.
//!
//! Without a license key Symbolica runs restricted: one Symbolica thread per user, and a second
//! thread that touches it aborts the process. Every Symbolica call of this crate therefore runs
//! on a single persistent worker thread, spawned on first use and fed closures through a channel;
//! callers (any thread, e.g. parallel tests) block until their job is done. Symbolica values
//! never leave that thread: jobs return plain Rust data (strings, numbers).

use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::mpsc::{channel, sync_channel, Sender};
use std::sync::{Mutex, OnceLock};
use std::thread;

type Job = Box<dyn FnOnce() + Send + 'static>;

static WORKER: OnceLock<Mutex<Sender<Job>>> = OnceLock::new();

/// Stack of the worker: expression trees are walked recursively.
const STACK_BYTES: usize = 64 * 1024 * 1024;

fn sender() -> &'static Mutex<Sender<Job>> {
    WORKER.get_or_init(|| {
        let (tx, rx) = channel::<Job>();
        thread::Builder::new()
            .name("feynn-symbolica".into())
            .stack_size(STACK_BYTES)
            .spawn(move || {
                for job in rx {
                    job();
                }
            })
            .expect("cannot spawn the Symbolica worker thread");
        Mutex::new(tx)
    })
}

/// Run `f` on the Symbolica thread and wait for its result. Jobs run one at a time, in the
/// order they arrive. A panic inside `f` is re-raised in the caller; the worker survives it.
///
/// Only this function may touch Symbolica; `f` must not call it again (that would deadlock).
pub fn on_symbolica_thread<R, F>(f: F) -> R
where
    R: Send + 'static,
    F: FnOnce() -> R + Send + 'static,
{
    let (rtx, rrx) = sync_channel(1);
    let job: Job = Box::new(move || {
        let r = catch_unwind(AssertUnwindSafe(f));
        let _ = rtx.send(r);
    });
    // A poisoned lock only means another caller panicked while sending; the sender is fine.
    let tx = sender().lock().unwrap_or_else(|e| e.into_inner()).clone();
    tx.send(job)
        .expect("the Symbolica worker thread has stopped");
    match rrx
        .recv()
        .expect("the Symbolica worker thread dropped a job")
    {
        Ok(r) => r,
        Err(panic) => resume_unwind(panic),
    }
}
