//! Stage 5, measurement: the public result types and the pipeline that drives the stages.
mod types;
pub use types::*;
