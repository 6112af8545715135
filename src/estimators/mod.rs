//! Stage 4, estimators: from timed beats and averaged waveforms to rate, beat error and
//! amplitude, each with a data-derived 95% uncertainty.
//!
//! * [`events`]: unlock and drop onsets in an averaged beat.
//! * [`fit`]: the tic/toc linear fit (online, flat memory) and its windowed summaries.
//! * [`pooled`]: the segments of one recording (timed apart after the beats were lost) as one.
//! * [`stats`]: Student quantiles, jackknife and correlation corrections.
//! * [`quartz`]: quartz rate, inhibition and end of life from the step train.
pub mod events;
pub mod fit;
pub mod mechanical;
pub mod pooled;
pub mod quartz;
pub mod stats;
