//! Stage 2, conditioning: filters and spectral tools shared by every later stage.
//!
//! * [`biquad`]: IIR sections (Butterworth high-pass) for the cheap acquisition envelope.
//! * [`spectral`]: FFT plans made once per analysis; zero-phase band weighting, analytic
//!   cross-correlation and exact fractional shifts, all with caller-owned scratch.
//! * [`whiten`]: linear-prediction whitening, the inverse of the resonances common to every
//!   beat (a contact microphone, the case, the room).
//! * [`dft`]: a slow, obviously correct DFT that the fast paths are tested against.
pub mod biquad;
pub mod dft;
pub mod spectral;
pub mod whiten;
