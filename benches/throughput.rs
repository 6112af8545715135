//! Speed and memory of the offline path: `make bench` (`cargo bench --bench throughput`).
//!
//! Measures, on one core (this binary analyses on its main thread only):
//! * (a) offline analysis speed in x real time for 16-bit mono WAV files read from disk
//!   through `analyze_path`: 10 minutes at 44.1, 48 and 96 kHz, and 1 minute at 48 kHz, best
//!   of several runs. Both wall-clock and on-CPU time of the thread are shown (the second is
//!   what the machine's other load does not disturb).
//! * (b) peak heap for 1, 10 and 60 minutes (the 60-minute recording is synthesised as a
//!   streaming source instead of being written to disk): the counting global allocator below
//!   tracks the bytes live and their peak.
//! * (c) allocations per second of audio in the steady-state hot path: `Analyzer::push` after
//!   acquisition, over 60 s of audio.
//! * (d) the time split: decoding alone (reading the WAV into mono blocks) against analysis
//!   alone (the same audio from memory).
//!
//! Recordings are synthesised once into a temporary folder with `tickproof::synth::write_wav`.
//! Environment: `TICKPROOF_BENCH_RUNS` (runs per speed figure, default 3),
//! `TICKPROOF_BENCH_QUICK=1` (skip the 44.1/96 kHz and 60-minute rows).
use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tickproof::measurement::{analyze_path, analyze_source, AnalysisConfig, Analyzer, Kind, Measurement};
use tickproof::source::channel::MonoBlocks;
use tickproof::source::{AudioInfo, BlockSource};
use tickproof::synth::{self, MechanicalParams, SampleFormat, Synth};

/// The system allocator, counting allocations and the bytes live (current and peak).
struct Counting;

static ALLOCS: AtomicU64 = AtomicU64::new(0);
static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grow(n: usize) {
    let now = LIVE.fetch_add(n, Ordering::Relaxed) + n;
    PEAK.fetch_max(now, Ordering::Relaxed);
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        grow(layout.size());
        System.alloc(layout)
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        grow(layout.size());
        System.alloc_zeroed(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        grow(new_size);
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const MIB: f64 = 1024.0 * 1024.0;

/// On-CPU time of the calling thread (`CLOCK_THREAD_CPUTIME_ID`, exact to the nanosecond,
/// unlike /proc's schedstat which lags by up to a scheduler tick), or `None` where unavailable.
fn thread_cpu() -> Option<Duration> {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid, writable timespec for the duration of the call.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    (rc == 0).then(|| Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32))
}

/// Wall and CPU seconds of `f`.
fn timed<T>(f: impl FnOnce() -> T) -> (T, f64, Option<f64>) {
    let c0 = thread_cpu();
    let t0 = Instant::now();
    let r = f();
    let wall = t0.elapsed().as_secs_f64();
    let cpu = thread_cpu().zip(c0).map(|(a, b)| (a - b).as_secs_f64());
    (r, wall, cpu)
}

fn watch(sample_rate_hz: u32, duration_s: f64) -> MechanicalParams {
    MechanicalParams {
        bph: 28800,
        rate_s_per_day: 4.2,
        beat_error_ms: 0.3,
        amplitude_deg: 260.0,
        sample_rate_hz,
        duration_s,
        snr_db: Some(20.0),
        seed: 7,
        ..MechanicalParams::default()
    }
}

fn write_fixture(dir: &Path, p: &MechanicalParams) -> PathBuf {
    let path = dir.join(format!("bench-{}hz-{}s.wav", p.sample_rate_hz, p.duration_s));
    let mut s = Synth::mechanical(p).expect("bench parameters are valid");
    let f = std::fs::File::create(&path).expect("temp file");
    synth::write_wav(&mut s, SampleFormat::I16, std::io::BufWriter::new(f)).expect("write wav");
    path
}

fn check(m: &Measurement, what: &str) {
    assert_eq!(m.kind, Kind::Mechanical, "{what}: the bench recording must measure: {:?}", m.reason);
}

/// Mono samples shared with the caller, so that dropping the source inside the timed region
/// costs nothing (a `MemorySource` would free its copy of the whole recording there).
struct Shared {
    info: AudioInfo,
    samples: Arc<[f32]>,
    pos: usize,
}

fn info_48k(frames: usize) -> AudioInfo {
    AudioInfo {
        sample_rate_hz: 48_000,
        channels: 1,
        frames: Some(frames as u64),
        encoding: "shared f32".into(),
    }
}

impl BlockSource for Shared {
    fn info(&self) -> &AudioInfo {
        &self.info
    }
    fn read_frames(&mut self, out: &mut [f32]) -> Result<usize, tickproof::source::Error> {
        let n = out.len().min(self.samples.len() - self.pos);
        out[..n].copy_from_slice(&self.samples[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
    fn rewind(&mut self) -> Result<(), tickproof::source::Error> {
        self.pos = 0;
        Ok(())
    }
}

struct Speed {
    wall_x: f64,
    cpu_x: Option<f64>,
    beats_used: usize,
}

/// Best of `runs` of `analyze_path` on `path`.
fn speed_of_file(path: &Path, duration_s: f64, runs: usize) -> Speed {
    let cfg = AnalysisConfig::default();
    let (mut best_wall, mut best_cpu) = (f64::INFINITY, None::<f64>);
    let mut beats_used = 0;
    for _ in 0..runs {
        let (m, wall, cpu) = timed(|| analyze_path(path, &cfg).expect("bench file analyses"));
        check(&m, &path.display().to_string());
        beats_used = m.beats_used;
        best_wall = best_wall.min(wall);
        best_cpu = match (best_cpu, cpu) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (None, c) => c,
            (a, None) => a,
        };
    }
    Speed { wall_x: duration_s / best_wall, cpu_x: best_cpu.map(|c| duration_s / c), beats_used }
}

/// Peak heap (bytes above what was live before) while `f` runs.
fn peak_heap<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let r = f();
    (r, PEAK.load(Ordering::Relaxed) - base)
}

/// Allocations made by `Analyzer::push` over `measure_s` seconds of audio after
/// acquisition (and `settle_s` more seconds).
fn hot_path_allocations(fs: u32, settle_s: f64, measure_s: f64) -> (u64, f64) {
    let acq = tickproof::measurement::pipeline::ACQUISITION_S;
    let p = watch(fs, acq + settle_s + measure_s + 1.0);
    let mut src = Synth::mechanical(&p).expect("valid");
    let mut an = Analyzer::new(fs, AnalysisConfig::default());
    let block = tickproof::measurement::pipeline::BLOCK_FRAMES;
    let mut buf = vec![0.0f32; block];
    let warm = ((acq + settle_s) * fs as f64) as u64;
    let mut fed = 0u64;
    while fed < warm {
        let n = src.read_frames(&mut buf).expect("synth reads");
        an.push(&buf[..n]);
        fed += n as u64;
    }
    assert!(an.snapshot().is_some(), "acquired after {acq} s");
    let end = fed + (measure_s * fs as f64) as u64;
    let mut allocs = 0u64;
    let mut audio = 0u64;
    while fed < end {
        let n = src.read_frames(&mut buf).expect("synth reads");
        let before = ALLOCS.load(Ordering::Relaxed);
        an.push(&buf[..n]);
        allocs += ALLOCS.load(Ordering::Relaxed) - before;
        fed += n as u64;
        audio += n as u64;
    }
    black_box(an.finish());
    (allocs, audio as f64 / fs as f64)
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument is not supported (one table).
    let runs: usize = std::env::var("TICKPROOF_BENCH_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(3);
    // `cargo test --all-targets` (the test suite) runs this binary without `--bench`: then only
    // a smoke run (1-minute file, one run) that proves the bench works, in a few seconds.
    let smoke = !std::env::args().any(|a| a == "--bench");
    let quick = smoke || std::env::var("TICKPROOF_BENCH_QUICK").is_ok_and(|v| v == "1");
    let runs = if smoke { 1 } else { runs };
    let long_s = if smoke { 60.0 } else { 600.0 };
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("tickproof throughput bench: one core, {runs} runs per speed figure (best kept)");
    println!(
        "machine: {cores} cores, load average {}",
        load.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
    );
    let dir = tempfile::tempdir().expect("temp dir");

    // (a) speed from disk, and (d) the split.
    println!();
    println!("(a) offline analysis, 16-bit mono WAV from disk through analyze_path");
    println!("{:<22} {:>12} {:>12} {:>16}", "recording", "x rt (wall)", "x rt (cpu)", "beats used/all");
    let mut rows: Vec<(u32, f64)> =
        if smoke { vec![(48_000, 60.0)] } else { vec![(48_000, 600.0), (48_000, 60.0)] };
    if !quick {
        rows.extend([(44_100, 600.0), (96_000, 600.0)]);
    }
    let mut files = Vec::new();
    for &(fs, d) in &rows {
        let path = write_fixture(dir.path(), &watch(fs, d));
        let sp = speed_of_file(&path, d, if d < 120.0 { runs.max(5) } else { runs });
        // Every beat must have been timed: a speed figure from a run that lost the watch
        // halfway would flatter the analysis.
        let all_beats = (d * 28800.0 / 3600.0) as usize;
        println!(
            "{:<22} {:>12.0} {:>12} {:>16}",
            format!("{:.0} min {:.1} kHz", d / 60.0, fs as f64 / 1000.0),
            sp.wall_x,
            sp.cpu_x.map_or("-".into(), |x| format!("{x:.0}")),
            format!("{}/{all_beats}", sp.beats_used)
        );
        files.push((fs, d, path));
    }

    println!();
    println!(
        "(d) time split, {:.0} min 48 kHz: decoding alone vs analysis alone (cpu, best of {runs})",
        long_s / 60.0
    );
    let (_, _, ten) = files.iter().find(|(fs, d, _)| *fs == 48_000 && *d == long_s).expect("long file");
    let mut decode = f64::INFINITY;
    let mut analysis = f64::INFINITY;
    let mut samples = Vec::new();
    for _ in 0..runs {
        let (s, wall, cpu) = timed(|| {
            let src = tickproof::source::open(ten).expect("opens");
            let mut mb = MonoBlocks::new(src, 0, tickproof::measurement::pipeline::BLOCK_FRAMES);
            let mut acc = 0.0f32;
            let mut n = 0usize;
            while let Some(b) = mb.next_block().expect("reads") {
                acc += b[0];
                n += b.len();
            }
            black_box(acc);
            n
        });
        decode = decode.min(cpu.unwrap_or(wall));
        black_box(s);
    }
    {
        let mut src = tickproof::source::open(ten).expect("opens");
        let mut buf = vec![0.0f32; 1 << 16];
        loop {
            let n = src.read_frames(&mut buf).expect("reads");
            if n == 0 {
                break;
            }
            samples.extend_from_slice(&buf[..n]);
        }
    }
    let samples: Arc<[f32]> = samples.into();
    for _ in 0..runs {
        let mem = Shared { info: info_48k(samples.len()), samples: samples.clone(), pos: 0 };
        let (m, wall, cpu) =
            timed(|| analyze_source(Box::new(mem), &AnalysisConfig::default()).expect("analyses"));
        check(&m, "memory");
        analysis = analysis.min(cpu.unwrap_or(wall));
    }
    drop(samples);
    println!(
        "decode {:.3} s ({:.0}x rt), analysis {:.3} s ({:.0}x rt): decoding is {:.0}% of the total",
        decode,
        long_s / decode,
        analysis,
        long_s / analysis,
        100.0 * decode / (decode + analysis)
    );

    // (b) peak heap.
    println!();
    println!("(b) peak heap during one analysis (target < 32 MiB for any length)");
    println!("{:<34} {:>10}", "recording", "peak MiB");
    for (fs, d, path) in &files {
        if *fs != 48_000 {
            continue;
        }
        let (m, peak) = peak_heap(|| analyze_path(path, &AnalysisConfig::default()).expect("analyses"));
        check(&m, "peak");
        println!("{:<34} {:>10.2}", format!("{:.0} min 48 kHz WAV from disk", d / 60.0), peak as f64 / MIB);
    }
    if !quick {
        let (m, peak) = peak_heap(|| {
            let s = Synth::mechanical(&watch(48_000, 3600.0)).expect("valid");
            analyze_source(Box::new(s), &AnalysisConfig::default()).expect("analyses")
        });
        check(&m, "60 min");
        println!("{:<34} {:>10.2}", "60 min 48 kHz streamed synthesis", peak as f64 / MIB);
    }

    // (c) hot path allocations.
    println!();
    println!("(c) allocations in the steady-state hot path (Analyzer::push after acquisition; target 0)");
    for fs in [48_000, 96_000] {
        let (allocs, audio_s) = hot_path_allocations(fs, 5.0, if smoke { 10.0 } else { 60.0 });
        println!(
            "{:.1} kHz: {allocs} allocations over {audio_s:.0} s of audio = {:.3} per second",
            fs as f64 / 1000.0,
            allocs as f64 / audio_s
        );
    }
}
