//! Second-order IIR sections (RBJ cookbook) and Butterworth cascades.

/// One biquad section in transposed direct form II.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Biquad {
    b0: f32,
    b1: f32,
    b2: f32,
    a1: f32,
    a2: f32,
    z1: f32,
    z2: f32,
}

impl Biquad {
    /// A high-pass section at `f0_hz` with quality `q`.
    pub fn high_pass(f0_hz: f64, q: f64, fs_hz: f64) -> Self {
        let w0 = 2.0 * std::f64::consts::PI * f0_hz / fs_hz;
        let (s, c) = w0.sin_cos();
        let alpha = s / (2.0 * q);
        let a0 = 1.0 + alpha;
        Biquad {
            b0: ((1.0 + c) / 2.0 / a0) as f32,
            b1: (-(1.0 + c) / a0) as f32,
            b2: ((1.0 + c) / 2.0 / a0) as f32,
            a1: (-2.0 * c / a0) as f32,
            a2: ((1.0 - alpha) / a0) as f32,
            z1: 0.0,
            z2: 0.0,
        }
    }
    /// Filters one sample.
    #[inline]
    pub fn process(&mut self, x: f32) -> f32 {
        let y = self.b0 * x + self.z1;
        self.z1 = self.b1 * x - self.a1 * y + self.z2;
        self.z2 = self.b2 * x - self.a2 * y;
        y
    }
    /// Clears the state.
    pub fn reset(&mut self) {
        self.z1 = 0.0;
        self.z2 = 0.0;
    }
}

/// A 4th-order Butterworth high-pass (two sections).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HighPass4 {
    s: [Biquad; 2],
}

impl HighPass4 {
    /// A 4th-order Butterworth high-pass at `f0_hz`.
    pub fn new(f0_hz: f64, fs_hz: f64) -> Self {
        HighPass4 {
            s: [Biquad::high_pass(f0_hz, 0.541_196_1, fs_hz), Biquad::high_pass(f0_hz, 1.306_563, fs_hz)],
        }
    }
    /// Filters one sample.
    #[inline]
    pub fn process(&mut self, x: f32) -> f32 {
        let y = self.s[0].process(x);
        self.s[1].process(y)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    fn gain(f: f64) -> f64 {
        let fs = 48_000.0;
        let mut h = HighPass4::new(1000.0, fs);
        let n = 48_000;
        let mut e = 0.0;
        for i in 0..n {
            let x = (2.0 * std::f64::consts::PI * f * i as f64 / fs).sin() as f32;
            let y = h.process(x) as f64;
            if i > n / 2 {
                e += y * y;
            }
        }
        (e / (n / 2 - 1) as f64 * 2.0).sqrt()
    }
    #[test]
    fn high_pass_is_butterworth_shaped() {
        assert!((gain(1000.0) - std::f64::consts::FRAC_1_SQRT_2).abs() < 0.02);
        assert!(gain(8000.0) > 0.99);
        assert!(gain(100.0) < 1e-3);
    }
}
