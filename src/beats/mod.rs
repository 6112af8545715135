//! (stage under construction)
pub mod clicks;
