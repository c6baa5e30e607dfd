//! Recycled per-thread f64 buffers for the engine's large per-call blocks (the diagram plan's
//! Jacobians, the jets' coefficient blocks): glibc maps and unmaps allocations this size on
//! every call, and the page faults cost time and serialise threads.

use ndarray::Array2;

thread_local! {
    /// Spare buffers: allocated per call, blocks of ~0.3–1 MiB (the diagram plan's Jacobians,
    /// the jets' [neurons, N·r] blocks) were returned to the system and faulted in again every
    /// time (a fifth of the Hessian row's time, ~15 % of the order-4 row, and the jets' poor
    /// scaling over two threads).
    static SPARE: std::cell::RefCell<Vec<Vec<f64>>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// A [rows, cols] matrix on a recycled buffer, with stale entries: every entry is written by
/// the caller.
pub fn take_buffer(rows: usize, cols: usize) -> Array2<f64> {
    let n = rows * cols;
    // the shortest spare that holds n entries (truncating it is free), else the longest: a
    // shorter one is zero-filled up to n, and reallocated (copied) beyond its capacity
    let mut v = SPARE
        .with(|s| {
            let mut s = s.borrow_mut();
            let pick = s
                .iter()
                .enumerate()
                .filter(|(_, v)| v.len() >= n)
                .min_by_key(|(_, v)| v.len())
                .or_else(|| s.iter().enumerate().max_by_key(|(_, v)| v.len()))
                .map(|(i, _)| i);
            pick.map(|i| s.swap_remove(i))
        })
        .unwrap_or_default();
    v.resize(n, 0.0);
    Array2::from_shape_vec((rows, cols), v).expect("the shape fits the buffer")
}

/// Returns a buffer of [`take_buffer`] (at most four are kept per thread).
pub fn give_buffer(a: Array2<f64>) {
    let (v, _) = a.into_raw_vec_and_offset();
    SPARE.with(|s| {
        let mut s = s.borrow_mut();
        if s.len() < 4 {
            s.push(v);
        }
    });
}
