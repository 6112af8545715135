//! Memory stays flat over a long live session, and the live path's cost and over-runs are
//! measured (the `#[ignore]`d benchmark prints the README figures: run with
//! `cargo test --release --test live_memory -- --ignored --nocapture`).
//! Its own test binary, because the counting allocator is global.
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tickproof::live::{LiveConfig, LiveSession};
use tickproof::source::BlockSource;
use tickproof::synth::{MechanicalParams, Synth};

struct Counting;

static LIVE: AtomicI64 = AtomicI64::new(0);
static PEAK: AtomicI64 = AtomicI64::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let now = LIVE.fetch_add(layout.size() as i64, Ordering::Relaxed) + layout.size() as i64;
        PEAK.fetch_max(now, Ordering::Relaxed);
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as i64, Ordering::Relaxed);
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let d = new_size as i64 - layout.size() as i64;
        let now = LIVE.fetch_add(d, Ordering::Relaxed) + d;
        PEAK.fetch_max(now, Ordering::Relaxed);
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn live_bytes() -> i64 {
    LIVE.load(Ordering::Relaxed)
}

fn watch(seconds: f64, fs: u32) -> MechanicalParams {
    MechanicalParams {
        bph: 28800,
        rate_s_per_day: 4.0,
        beat_error_ms: 0.3,
        amplitude_deg: 270.0,
        duration_s: seconds,
        sample_rate_hz: fs,
        snr_db: Some(20.0),
        jitter_us: 20.0,
        knocks_per_min: 2.0,
        seed: 5,
        ..Default::default()
    }
}

/// Streams `seconds` of a watch through a session in 10 ms blocks; returns (live bytes at each
/// checkpoint, seconds spent in `push`, readings).
fn stream(seconds: f64, checkpoints_s: &[f64]) -> (Vec<i64>, f64, usize) {
    let fs = 48_000u32;
    let mut s = Synth::mechanical(&watch(seconds, fs)).unwrap();
    let mut session = LiveSession::new(fs, LiveConfig::default());
    let mut buf = vec![0.0f32; 480];
    let mut at = vec![];
    let mut push_s = 0.0;
    let mut readings = 0;
    let mut next = 0;
    let mut fed = 0u64;
    loop {
        let n = s.read_frames(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        let t = Instant::now();
        if session.push(&buf[..n]).is_some() {
            readings += 1;
        }
        push_s += t.elapsed().as_secs_f64();
        fed += n as u64;
        if next < checkpoints_s.len() && fed as f64 >= checkpoints_s[next] * fs as f64 {
            at.push(live_bytes());
            next += 1;
        }
    }
    (at, push_s, readings)
}

#[test]
fn memory_stays_flat_over_a_long_live_session() {
    // 20 minutes (twenty 60 s windows): what is alive at 5 min is what is alive at 20 min.
    let (at, _, readings) = stream(1200.0, &[300.0, 600.0, 900.0, 1199.0]);
    assert!(readings >= 1190, "{readings} readings");
    let growth = at.iter().max().unwrap() - at[0];
    assert!(growth < 512 * 1024, "live bytes at 5/10/15/20 min: {at:?}");
}

#[test]
#[ignore = "benchmark: prints the README figures (CPU, over-runs, memory); takes ~2 minutes"]
fn bench_live_cpu_overruns_and_memory() {
    // CPU of the analysis at 48 kHz: time in push per second of audio, one hour replayed at
    // full speed, with the memory alive at 10 and 60 minutes.
    let (at, push_s, readings) = stream(3600.0, &[600.0, 3599.0]);
    println!(
        "analysis CPU at 48 kHz: {:.2}% of one core (push {:.1} s for 3600 s of audio, {readings} readings)",
        100.0 * push_s / 3600.0,
        push_s
    );
    println!(
        "memory alive after 10 min: {:.2} MiB, after 60 min: {:.2} MiB, peak {:.2} MiB",
        at[0] as f64 / 1048576.0,
        at[1] as f64 / 1048576.0,
        PEAK.load(Ordering::Relaxed) as f64 / 1048576.0
    );
    // Over-runs at real speed while the view redraws (160x48 test backend, 10 Hz).
    for fs in [48_000u32, 96_000] {
        let dir = tempfile::tempdir().unwrap();
        let wav = dir.path().join("w.wav");
        let mut s = Synth::mechanical(&watch(30.0, fs)).unwrap();
        let f = std::io::BufWriter::new(std::fs::File::create(&wav).unwrap());
        tickproof::synth::write_wav(&mut s, tickproof::synth::SampleFormat::I16, f).unwrap();
        let info = tickproof::live::replay::probe(&wav).unwrap();
        let (p, c) = tickproof::live::ring(fs as usize); // 1 s ring: stricter than listen's 4 s
        let stop = Arc::new(AtomicBool::new(false));
        let err = Arc::new(Mutex::new(None));
        let h = tickproof::live::replay::spawn(wav.clone(), info, 1.0, p, stop.clone(), err.clone());
        let term = ratatui::Terminal::new(ratatui::backend::TestBackend::new(160, 48)).unwrap();
        let mut fe = tickproof::live::tui::ViewFrontend::new(term, Default::default(), false);
        let t0 = Instant::now();
        let out = tickproof::live::run::run(
            tickproof::live::run::RunInputs {
                consumer: c,
                session: LiveSession::new(fs, LiveConfig::default()),
                recorder: None,
                interrupted: Arc::new(AtomicBool::new(false)),
                device_error: err,
                max_samples: None,
                snapshot_base: wav,
                host_clock: None,
            },
            &mut fe,
        )
        .unwrap();
        h.join().unwrap();
        let wall = t0.elapsed().max(Duration::from_millis(1)).as_secs_f64();
        println!(
            "{} kHz at real speed with the view redrawing: {} over-run samples, {} frames drawn in {:.1} s, last rate {:?}",
            fs / 1000,
            out.overrun_samples,
            fe.frames,
            wall,
            out.last.and_then(|r| r.rate_s_per_day)
        );
    }
}
