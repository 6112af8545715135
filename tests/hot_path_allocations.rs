//! After acquisition, the per-block hot path (`Analyzer::push` -> `BeatTimer::push`) allocates
//! nothing. Its own test binary, because the counting allocator is global.
//!
//! To find an allocation, run with `TICKPROOF_ALLOC_BACKTRACE=1`: every allocation made while
//! counting prints a backtrace (the first few) on standard error.
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use tickproof::measurement::pipeline::{MechanicalOutcome, ACQUISITION_S, BLOCK_FRAMES};
use tickproof::measurement::{AnalysisConfig, Analyzer};
use tickproof::source::BlockSource;
use tickproof::synth::{MechanicalParams, Synth};

struct Counting;

thread_local! {
    // Counting is per thread: other tests of this binary may run at the same time.
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
    static IN_TRACE: Cell<bool> = const { Cell::new(false) };
    static TRACE: Cell<bool> = const { Cell::new(false) };
    static TRACED: Cell<u32> = const { Cell::new(0) };
}

fn note() {
    // `try_with`: thread-locals may be gone while a thread ends.
    let counting = COUNTING.try_with(|c| c.get()).unwrap_or(false);
    if !counting {
        return;
    }
    let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
    let trace = TRACE.try_with(|c| c.get()).unwrap_or(false);
    if trace && !IN_TRACE.with(|c| c.replace(true)) {
        // The backtrace allocates: the re-entrancy flag keeps it from counting or recursing.
        if TRACED.with(|c| c.replace(c.get() + 1)) < 5 {
            eprintln!("allocation in the hot path:\n{}", std::backtrace::Backtrace::force_capture());
        }
        IN_TRACE.with(|c| c.set(false));
    }
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if !IN_TRACE.try_with(|c| c.get()).unwrap_or(true) {
            note();
        }
        System.alloc(layout)
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if !IN_TRACE.try_with(|c| c.get()).unwrap_or(true) {
            note();
        }
        System.alloc_zeroed(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if !IN_TRACE.try_with(|c| c.get()).unwrap_or(true) {
            note();
        }
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations made by `f` on this thread.
fn count<T>(f: impl FnOnce() -> T) -> (T, u64) {
    TRACE.with(|c| c.set(std::env::var_os("TICKPROOF_ALLOC_BACKTRACE").is_some()));
    let before = ALLOCATIONS.with(|c| c.get());
    COUNTING.with(|c| c.set(true));
    let r = f();
    COUNTING.with(|c| c.set(false));
    (r, ALLOCATIONS.with(|c| c.get()) - before)
}

/// Feeds `p` block by block (blocks of `block` frames): the first `warm_s` seconds freely,
/// then counts the allocations of `Analyzer::push` over the rest. Returns (allocations,
/// seconds counted, the outcome).
fn steady_state(p: &MechanicalParams, block: usize, warm_s: f64) -> (u64, f64, MechanicalOutcome) {
    let mut src = Synth::mechanical(p).unwrap();
    let fs = p.sample_rate_hz;
    let mut an = Analyzer::new(fs, AnalysisConfig { lift_angle_deg: p.lift_angle_deg, ..Default::default() });
    let mut buf = vec![0.0f32; block];
    let warm = (warm_s * fs as f64) as u64;
    let mut fed = 0u64;
    while fed < warm {
        let n = src.read_frames(&mut buf).unwrap();
        an.push(&buf[..n]);
        fed += n as u64;
    }
    assert!(an.snapshot().is_some(), "the beat rate is locked after {warm_s} s");
    let mut total = 0u64;
    let mut counted = 0u64;
    loop {
        let n = src.read_frames(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        let ((), a) = count(|| an.push(&buf[..n]));
        total += a;
        counted += n as u64;
    }
    (total, counted as f64 / fs as f64, an.finish())
}

fn watch(bph: u32, fs: u32, seconds: f64) -> MechanicalParams {
    MechanicalParams {
        bph,
        rate_s_per_day: -12.0,
        beat_error_ms: 0.8,
        amplitude_deg: 240.0,
        sample_rate_hz: fs,
        duration_s: seconds,
        snr_db: Some(15.0),
        knocks_per_min: 6.0,
        seed: 11,
        ..MechanicalParams::default()
    }
}

#[test]
fn a_further_minute_through_analyzer_push_allocates_nothing() {
    // Acquisition (12 s) plus 3 s to settle, then 60 s counted, in the pipeline's own blocks.
    let warm = ACQUISITION_S + 3.0;
    let (allocs, counted_s, outcome) = steady_state(&watch(28800, 48_000, warm + 60.0), BLOCK_FRAMES, warm);
    assert!(counted_s >= 59.9, "{counted_s} s counted");
    assert!(matches!(outcome, MechanicalOutcome::Measured(_)), "the watch is measured: {outcome:?}");
    assert_eq!(
        allocs, 0,
        "{allocs} allocations in {counted_s:.0} s of steady state (TICKPROOF_ALLOC_BACKTRACE=1 shows where)"
    );
}

#[test]
fn the_hot_path_allocates_nothing_at_other_rates_and_odd_block_sizes() {
    // A slow and a fast movement, 96 and 44.1 kHz, blocks that do not divide the frame.
    for (bph, fs, block) in [(18000, 96_000, 1000), (72000, 44_100, 333), (21600, 48_000, 8192)] {
        let warm = ACQUISITION_S + 3.0;
        let (allocs, counted_s, outcome) = steady_state(&watch(bph, fs, warm + 30.0), block, warm);
        assert!(matches!(outcome, MechanicalOutcome::Measured(_)), "{bph} bph: {outcome:?}");
        assert_eq!(
            allocs, 0,
            "{bph} bph {fs} Hz blocks of {block}: {allocs} allocations in {counted_s:.0} s"
        );
    }
}

#[test]
fn the_counter_sees_allocations() {
    // The zero above means something only if an allocation would have been counted.
    let (v, n) = count(|| std::hint::black_box(vec![1u8; 100]));
    assert_eq!((v.len(), n), (100, 1));
}
