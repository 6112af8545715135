//! Running cases on the available cores, and timing each on the thread that ran it.
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

/// On-CPU seconds of the calling thread where the system tells (Linux), else `None`.
///
/// Read from `/proc/thread-self/schedstat` (the crate forbids `unsafe`, so no
/// `clock_gettime`): the kernel brings the figure up to date at every scheduler tick and
/// context switch, so a reading lags by less than one tick (a few ms). The lag at the start
/// and at the end of a case have the same distribution, so a case's time is off by less than
/// a tick either way and sums over many cases are unbiased; one short case on its own is not a
/// speed figure (the bench measures that exactly).
pub(super) fn thread_cpu_s() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace().next()?.parse::<u64>().ok().map(|ns| ns as f64 * 1e-9)
}

/// Runs `f` and returns its result with the seconds it took: on-CPU time of this thread where
/// the system tells (so other load on the machine does not count), else wall-clock time.
pub(super) fn timed<T>(f: impl FnOnce() -> T) -> (T, f64) {
    let c0 = thread_cpu_s();
    let t0 = Instant::now();
    let r = f();
    let wall = t0.elapsed().as_secs_f64();
    let s = match (c0, thread_cpu_s()) {
        (Some(a), Some(b)) if b >= a => b - a,
        _ => wall,
    };
    (r, s)
}

pub(super) fn threads_for(requested: usize, cases: usize) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let t = if requested == 0 { cores } else { requested };
    t.clamp(1, cases.max(1))
}

/// Runs `work` on every index `0..n` over `threads` threads; results in index order.
pub(super) fn parallel<T: Send>(n: usize, threads: usize, work: impl Fn(usize) -> T + Sync) -> Vec<T> {
    let next = AtomicUsize::new(0);
    let mut all: Vec<(usize, T)> = std::thread::scope(|sc| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                sc.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= n {
                            break mine;
                        }
                        mine.push((i, work(i)));
                    }
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().expect("evaluation worker panicked")).collect()
    });
    all.sort_by_key(|(i, _)| *i);
    all.into_iter().map(|(_, t)| t).collect()
}
