//! Recordings with known truth, for tests, fixtures and benchmarks.
pub mod quartz;
pub mod rng;
