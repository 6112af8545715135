//! Stage 3, beat finding: recognise the beat rate, build the tic and toc templates, and time
//! every beat to a fraction of a sample.
//!
//! * [`acquire`]: the beat rate and coarse beat positions from an envelope.
//! * [`template`]: averaged tic/toc waveforms and their unlock and drop events.
//! * [`timer`]: the streaming per-beat timer (matched filter, sub-sample, outlier rejection).
//! * [`clicks`]: a timer for near-periodic click trains (quartz steps, reference ticks).
//! * [`click_envelope`]: the same clicks timed on their envelopes, for sounds that do not repeat.
pub mod acquire;
pub mod click_envelope;
pub mod clicks;
pub mod template;
pub mod timer;
