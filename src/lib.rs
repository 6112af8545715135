//! tickproof: listens to a watch and settles an accuracy claim with evidence.
//!
//! The library reads as data flowing one way, one folder per stage:
//!
//! ```text
//! source -> conditioning -> beats -> estimators -> measurement -> verdict -> record/report
//! ```
//!
//! * [`source`]: audio in blocks (WAV via hound, FLAC via symphonia), channel choice.
//! * [`conditioning`]: filters, envelopes, FFT plans reused across blocks.
//! * [`beats`]: beat-rate acquisition and the per-beat timer (sub-sample, tic/toc).
//! * [`estimators`]: rate, beat error, amplitude and their 95% uncertainties.
//! * [`measurement`]: the public result types and the pipeline that drives the stages.
//! * [`verdict`]: warranty policies and the decision rule.
//! * [`synth`]: recordings with known truth, for tests and benchmarks.
//! * [`calibration`]: the recorder's sample-clock error and its profiles.
//! * [`doctor`]: checks an input (level, clipping, noise, hum, ticks, calibration) before a
//!   measurement.
//! * [`evaluate`]: the accuracy benchmark over synthetic sweeps or truth-labelled folders.
//!
//! Conventions (fixed): `rate_s_per_day` positive = the watch gains; quartz `rate_s_per_month`
//! with a 30-day month; `beat_error_ms` = |t1 - t2| / 2; `amplitude_deg` = L / (2 sin(pi t / T));
//! `recorder_ppm` positive = the recorder's clock runs fast, shifting apparent rates by
//! `-ppm * 0.0864` s/day. Every figure carries its 95% uncertainty `u95`.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod beats;
pub mod calibration;
pub mod calibre;
pub mod claim;
pub mod cli;
pub mod conditioning;
pub mod doctor;
pub mod estimators;
pub mod evaluate;
pub mod live;
pub mod measurement;
pub mod record;
pub mod report;
pub mod shop;
pub mod source;
pub mod store;
pub mod synth;
pub mod verdict;
