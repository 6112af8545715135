//! Stage 3, beat finding: recognise the beat rate, build the tic and toc templates, and time
//! every beat to a fraction of a sample.
//!
//! * [`acquire`]: the beat rate and coarse beat positions from an envelope.
//! * [`template`]: averaged tic/toc waveforms and their unlock and drop events.
//! * [`timer`]: the streaming per-beat timer (matched filter, sub-sample, outlier rejection).
pub mod acquire;
pub mod template;
pub mod timer;
