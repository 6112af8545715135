//! Memory is flat whatever the length: the peak heap of a 30-minute analysis is below 32 MiB
//! and no larger than that of a 5-minute one plus a small margin. Its own test binary, because
//! the counting allocator is global; one test only, so nothing else allocates meanwhile.
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use tickproof::measurement::{analyze_source, AnalysisConfig, Kind};
use tickproof::synth::{MechanicalParams, Synth};

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grow(n: usize) {
    let now = LIVE.fetch_add(n, Ordering::Relaxed) + n;
    PEAK.fetch_max(now, Ordering::Relaxed);
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        grow(layout.size());
        System.alloc(layout)
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        grow(layout.size());
        System.alloc_zeroed(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        grow(new_size);
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const MIB: usize = 1 << 20;

/// Peak heap above the bytes live before, while a `minutes`-long synthetic watch recording is
/// streamed through the whole pipeline (synthesis, channel choice, analysis, estimate).
fn peak_for(minutes: f64) -> usize {
    let p = MechanicalParams {
        bph: 21600,
        rate_s_per_day: 7.5,
        beat_error_ms: 0.6,
        amplitude_deg: 250.0,
        sample_rate_hz: 48_000,
        duration_s: minutes * 60.0,
        snr_db: Some(20.0),
        seed: 3,
        ..MechanicalParams::default()
    };
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let m = analyze_source(Box::new(Synth::mechanical(&p).unwrap()), &AnalysisConfig::default()).unwrap();
    assert_eq!(m.kind, Kind::Mechanical, "{minutes} min: {:?}", m.reason);
    assert!((m.duration_s - minutes * 60.0).abs() < 1e-6);
    PEAK.load(Ordering::Relaxed) - base
}

#[test]
fn peak_heap_of_thirty_minutes_is_that_of_five_and_under_32_mib() {
    // The peak is tracked: a 1 MiB buffer shows as at least 1 MiB.
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    drop(std::hint::black_box(vec![0u8; MIB]));
    assert!(PEAK.load(Ordering::Relaxed) - base >= MIB);
    let five = peak_for(5.0);
    let thirty = peak_for(30.0);
    // The margin allows for the per-window summaries (a few hundred bytes per 10 s) and the
    // thinned per-beat records filling up; anything that grows with the audio would exceed it.
    let margin = MIB / 2;
    assert!(thirty < 32 * MIB, "30 min: peak {:.2} MiB", thirty as f64 / MIB as f64);
    assert!(
        thirty <= five + margin,
        "peak grows with length: 5 min {:.2} MiB, 30 min {:.2} MiB",
        five as f64 / MIB as f64,
        thirty as f64 / MIB as f64
    );
}
