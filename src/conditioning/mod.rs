//! Stage 2, conditioning: filters and spectral tools shared by every later stage.
//!
//! * [`biquad`]: IIR sections (Butterworth high-pass) for the cheap acquisition envelope.
//! * [`spectral`]: FFT plans made once per analysis; zero-phase band weighting, analytic
//!   cross-correlation and exact fractional shifts, all with caller-owned scratch.
//! * [`dft`]: a slow, obviously correct DFT that the fast paths are tested against.
pub mod biquad;
pub mod dft;
pub mod spectral;
