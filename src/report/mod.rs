//! Plots (PNG and SVG, embedded font) and the customer report (self-contained HTML, A4).
//!
//! The plots take plain input structs so the pipeline only has to fill them:
//! [`PaperStrip`] (per-beat timing), [`Waveform`] (averaged tic and toc), [`StepResiduals`]
//! (quartz), [`PositionRate`] (rate per position), and the measurement's own
//! [`WindowRate`](crate::measurement::WindowRate) series for the trend.
//!
//! Text in PNG plots is drawn with DejaVu Sans (`assets/fonts/`, Bitstream Vera licence),
//! compiled into the binary and registered with plotters' `ab_glyph` backend: no fontconfig or
//! system font library is ever used. SVG plots name the `sans-serif` family and are drawn by the
//! viewer.
use std::fmt;
use std::sync::OnceLock;

use crate::measurement::Figure;

mod glyphs;
mod html;
mod legend;
pub mod plots;
mod sections;
pub mod text;

pub use html::{html_report, verdict_in_words, ReportInput};

/// The embedded font (DejaVu Sans 2.37).
pub static FONT_TTF: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

/// Errors of the report layer.
///
/// Recoverability: [`Input`](ReportError::Input) is data the plot cannot show (empty or ragged
/// series): the caller may skip that plot and go on. [`Plot`](ReportError::Plot) is a drawing
/// or encoding failure (including a font that does not load): a bug, report it.
#[derive(Debug)]
#[non_exhaustive]
pub enum ReportError {
    /// The data given to a plot cannot be drawn.
    Input {
        /// Which plot.
        plot: String,
        /// Why.
        problem: String,
    },
    /// Drawing or encoding failed.
    Plot {
        /// Which plot.
        plot: String,
        /// Why.
        problem: String,
    },
}

impl fmt::Display for ReportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReportError::Input { plot, problem } => write!(f, "plot {plot}: {problem}"),
            ReportError::Plot { plot, problem } => write!(f, "plot {plot}: drawing failed: {problem}"),
        }
    }
}

impl std::error::Error for ReportError {}

/// Registers the embedded font with plotters once per process.
pub(crate) fn ensure_font() -> Result<(), ReportError> {
    static DONE: OnceLock<bool> = OnceLock::new();
    let ok = *DONE.get_or_init(|| {
        plotters::style::register_font("sans-serif", plotters::style::FontStyle::Normal, FONT_TTF).is_ok()
    });
    if ok {
        Ok(())
    } else {
        Err(ReportError::Plot { plot: "font".into(), problem: "the embedded font does not load".into() })
    }
}

/// One drawn plot in both formats.
#[derive(Debug, Clone, PartialEq)]
pub struct Plot {
    /// File stem, e.g. `rates`, `paper-strip-DU`.
    pub name: String,
    /// Title in plain words.
    pub title: String,
    /// The SVG document.
    pub svg: String,
    /// The PNG file.
    pub png: Vec<u8>,
}

/// The paper strip of one position: per-beat timing deviation against time.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PaperStrip {
    /// Time of each beat from the start of the recording, s.
    pub t_s: Vec<f64>,
    /// How early each beat came against the nominal beat grid, ms (+ = early, so a gaining watch
    /// drifts upwards like on a timegrapher's paper).
    pub deviation_ms: Vec<f64>,
    /// Side of each beat: 0 tic, 1 toc.
    pub side: Vec<u8>,
    /// The fitted rate, s/day, drawn as the strip's slope (`rate / 86.4` ms per second).
    pub rate_s_per_day: Option<f64>,
}

/// The averaged tic and toc sounds of one position.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Waveform {
    /// Time axis from the beat's unlock, ms.
    pub t_ms: Vec<f64>,
    /// Averaged tic envelope (relative units).
    pub tic: Vec<f64>,
    /// Averaged toc envelope (relative units).
    pub toc: Vec<f64>,
    /// Unlock instant used for the amplitude, ms.
    pub unlock_ms: Option<f64>,
    /// Drop instant used for the amplitude, ms.
    pub drop_ms: Option<f64>,
}

/// Quartz step timing residuals of one position.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StepResiduals {
    /// Time of each motor step, s.
    pub t_s: Vec<f64>,
    /// Residual of each step against the fitted rate, ms.
    pub residual_ms: Vec<f64>,
    /// Times of the inhibition corrections, s.
    pub inhibition_t_s: Vec<f64>,
}

/// The rate measured in one position.
#[derive(Debug, Clone, PartialEq)]
pub struct PositionRate {
    /// Position name (`DU`, ...).
    pub position: String,
    /// Rate with its u95 (s/day, or s/month for quartz).
    pub rate: Figure,
}

/// The tolerance a policy allows (same unit as the rates plotted).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ToleranceBand {
    /// Lowest rate allowed (negative: losing).
    pub lo: f64,
    /// Highest rate allowed.
    pub hi: f64,
}
