//! Streaming a synthetic recording allocates nothing per block: memory is flat for any length.
//! (Its own test binary, because the counting allocator is global.)
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use tickproof::source::BlockSource;
use tickproof::synth::quartz::{QuartzParams, QuartzSynth};
use tickproof::synth::{MechanicalParams, Negative, NegativeParams, SoundFamily, Span, Synth, WeakStretch};

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|c| c.set(c.get() + 1));
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.with(|c| c.set(c.get() + 1));
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations() -> u64 {
    ALLOCATIONS.with(|c| c.get())
}

/// Reads everything in blocks of `block` frames; returns (frames, allocations while reading).
fn stream(s: &mut dyn BlockSource, block: usize) -> (u64, u64) {
    let mut buf = vec![0.0f32; block * s.info().channels as usize];
    let before = allocations();
    let mut frames = 0u64;
    loop {
        let n = s.read_frames(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        frames += n as u64;
    }
    (frames, allocations() - before)
}

/// Allocations while streaming, rewinding and streaming again in another block size.
fn allocations_streaming_twice(s: &mut dyn BlockSource) -> (u64, u64, u64) {
    let (_, first) = stream(s, 4096);
    let before = allocations();
    s.rewind().unwrap();
    let rewind = allocations() - before;
    let (_, second) = stream(s, 777);
    (first, rewind, second)
}

#[test]
fn an_hour_of_synthesis_streams_without_allocating() {
    // One hour at 48 kHz with every interference on: not one allocation after construction.
    let p = MechanicalParams {
        duration_s: 3600.0,
        snr_db: Some(15.0),
        hum_hz: Some(50.0),
        hum_db: -10.0,
        knocks_per_min: 10.0,
        dropouts_per_min: 2.0,
        jitter_us: 20.0,
        ..MechanicalParams::default()
    };
    let mut s = Synth::mechanical(&p).unwrap();
    let (frames, allocated) = stream(&mut s, 4096);
    assert_eq!(frames, 3600 * 48_000);
    assert_eq!(allocated, 0, "{allocated} allocations while streaming");
}

#[test]
fn negative_scenarios_and_rewind_stream_without_allocating() {
    for sc in [Negative::Speech, Negative::Music, Negative::Metronome { bpm: 100.0 }, Negative::Knocks] {
        let p = NegativeParams { duration_s: 60.0, babble_db: Some(-10.0), ..NegativeParams::new(sc) };
        let mut s = Synth::negative(&p).unwrap();
        let (_, first) = stream(&mut s, 1000);
        let before = allocations();
        s.rewind().unwrap();
        let rewind = allocations() - before;
        let (_, second) = stream(&mut s, 333);
        assert_eq!((first, rewind, second), (0, 0, 0), "{}", sc.name());
    }
}

#[test]
fn every_sound_family_with_every_fault_streams_and_rewinds_without_allocating() {
    for family in SoundFamily::ALL {
        let p = MechanicalParams {
            bph: 36000,
            duration_s: 120.0,
            snr_db: Some(20.0),
            knocks_per_min: 10.0,
            family,
            clip_level: Some(0.5),
            weak_stretch: Some(WeakStretch { start_s: 10.0, end_s: 30.0, level: 0.1 }),
            noise_gap: Some(Span { start_s: 40.0, end_s: 45.0 }),
            ..MechanicalParams::default()
        };
        let mut s = Synth::mechanical(&p).unwrap();
        assert_eq!(allocations_streaming_twice(&mut s), (0, 0, 0), "{family}");
    }
}

#[test]
fn every_quartz_family_with_faults_and_jitter_streams_and_rewinds_without_allocating() {
    for family in SoundFamily::ALL {
        let p = QuartzParams {
            duration_s: 120.0,
            step_interval_s: 4,
            family,
            jitter_us: 50.0,
            clip_level: Some(0.5),
            weak_stretch: Some(WeakStretch { start_s: 10.0, end_s: 30.0, level: 0.1 }),
            noise_gap: Some(Span { start_s: 40.0, end_s: 45.0 }),
            ..QuartzParams::default()
        };
        let mut s = QuartzSynth::new(&p).unwrap();
        assert_eq!(allocations_streaming_twice(&mut s), (0, 0, 0), "{family}");
    }
}
