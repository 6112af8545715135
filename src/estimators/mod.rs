//! (stage under construction)
pub mod quartz;
