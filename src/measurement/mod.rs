//! Stage 5, measurement: the public result types and the pipeline that drives the stages.
pub mod pipeline;
mod types;
pub use pipeline::{analyze_path, analyze_source, AnalyzeError, Analyzer};
pub use types::*;
