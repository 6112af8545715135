//! Stage 3, beat finding: recognise the beat rate, build the tic and toc templates, and time
//! every beat to a fraction of a sample.
//!
//! * [`acquire`]: the beat rate and coarse beat positions from an envelope.
//! * [`template`]: averaged tic/toc waveforms and their unlock and drop events.
//! * [`timer`]: the streaming per-beat timer (matched filter, sub-sample, outlier rejection).
//! * [`clicks`]: a timer for near-periodic click trains (quartz steps, reference ticks).
pub mod acquire;
pub mod clicks;
pub mod template;
pub mod timer;
