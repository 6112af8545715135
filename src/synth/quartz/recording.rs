//! [`QuartzSynth`]: planning the steps, its truth, and reading it as a [`BlockSource`].

use super::motor::*;
use super::*;

impl QuartzSynth {
    /// Plans the recording: checks the parameters and computes every step time.
    pub fn new(params: &QuartzParams) -> Result<Self, ParamError> {
        let p = params;
        let bad = |s: &str| Err(ParamError(s.to_string()));
        if !(8000..=384_000).contains(&p.sample_rate_hz) {
            return bad("sample_rate_hz must be 8000..384000");
        }
        if !(p.duration_s > 0.0 && p.duration_s <= 24.0 * 3600.0) {
            return bad("duration_s must be in (0, 86400]");
        }
        if p.rate_s_per_month.is_nan() || p.rate_s_per_month.abs() > 100_000.0 {
            return bad("rate_s_per_month must be within +-100000");
        }
        if !(0.0..=10_000.0).contains(&p.inhibition_ppm) {
            return bad("inhibition_ppm must be 0..10000");
        }
        if p.inhibition_period_s == Some(0) {
            return bad("inhibition_period_s must be positive (or null)");
        }
        if !(1..=60).contains(&p.step_interval_s) {
            return bad("step_interval_s must be 1..60");
        }
        if !(p.burst_gap_s >= 0.02 && p.burst_gap_s * p.step_interval_s as f64 <= 0.5) {
            return bad("burst_gap_s must be at least 0.02 s and a burst at most 0.5 s long");
        }
        if !(0.0..=1.0).contains(&p.missing_step_prob) {
            return bad("missing_step_prob must be 0..1");
        }
        if !(p.snr_db.is_finite() && p.snr_db > -30.0 && p.snr_db < 200.0) {
            return bad("snr_db must be within -30..200");
        }
        if p.recorder_ppm.is_nan() || p.recorder_ppm.abs() > 10_000.0 {
            return bad("recorder_ppm must be within +-10000");
        }
        let m = &p.motor;
        if !(m.freq_hz.iter().all(|&f| f > 0.0 && f < 0.45 * p.sample_rate_hz as f64)
            && m.decay_ms.iter().all(|&d| d > 0.01 && d < 3.0)
            && m.level > 0.0
            && m.level <= 1.0)
        {
            return bad("motor resonances must lie below 0.45 fs, decay 0.01..3 ms, level in (0, 1]");
        }
        check_range("--jitter-us", p.jitter_us, 0.0, 1000.0)
            .and_then(|()| check_faults(p.clip_level, p.weak_stretch, p.noise_gap, p.duration_s))
            .map_err(|e| ParamError(e.to_string()))?;

        let mut rng = Rng::new(p.seed);
        let r = p.rate_s_per_month / SECONDS_PER_MONTH;
        let (d, c, period) = match p.inhibition_period_s {
            Some(per) => {
                (1.0 / (1.0 + r) - p.inhibition_ppm * 1e-6, per as f64 * p.inhibition_ppm * 1e-6, per as i64)
            }
            None => (1.0 / (1.0 + r), 0.0, 0),
        };
        let t0 = rng.range(0.2, 1.2);
        let phase = if period > 0 { (rng.uniform() * period as f64) as i64 } else { 0 };
        let s = p.step_interval_s as i64;
        let burst_phase = (rng.uniform() * s as f64) as i64;
        let k_of = |k: i64| -> f64 {
            let jumps =
                if period > 0 { (k + phase).div_euclid(period) - phase.div_euclid(period) } else { 0 };
            t0 + k as f64 * d + c * jumps as f64
        };
        let first_inhibition_s = (period > 0).then(|| {
            let k = (1..=period).find(|k| (k + phase) % period == 0).unwrap_or(period);
            k_of(k)
        });
        let scale = 1.0 + p.recorder_ppm * 1e-6; // true seconds -> recorder seconds
        let end_true = p.duration_s / scale;
        let mut steps = Vec::with_capacity((p.duration_s * 1.1) as usize + 16);
        let mut missed = 0;
        let mut pulse = 0u64;
        let mut k = 0i64;
        let mut jitter = Rng::new(p.seed ^ JITTER_SALT);
        loop {
            let tk = k_of(k);
            if tk >= end_true {
                break;
            }
            if (k + burst_phase) % s == 0 {
                for j in 0..s {
                    let t_model = tk + j as f64 * p.burst_gap_s;
                    let stopped = p.stop_at_s.is_some_and(|ts| t_model >= ts);
                    let class = (pulse % 2) as u8;
                    pulse += 1;
                    let level = (1.0 + m.level_jitter * rng.gauss()).max(0.1);
                    let miss = rng.uniform() < p.missing_step_prob;
                    // One draw for every step, so the offsets do not depend on the other settings.
                    let jitter_s = p.jitter_us * 1e-6 * jitter.gauss();
                    let t = t_model + jitter_s;
                    if stopped || t >= end_true {
                        continue;
                    }
                    if miss {
                        missed += 1;
                        continue;
                    }
                    steps.push(SynthStep { t_recorder_s: t * scale, t_true_s: t, class, level, jitter_s });
                }
            }
            k += 1;
        }
        if let Some(w) = p.weak_stretch {
            for st in steps.iter_mut().filter(|st| st.t_recorder_s >= w.start_s && st.t_recorder_s < w.end_s)
            {
                st.level *= w.level;
            }
        }
        let fs = p.sample_rate_hz as f64;
        let frames = (p.duration_s * fs).round() as u64;
        let gap = p.noise_gap.map(|g| ((g.start_s * fs).ceil() as u64, (g.end_s * fs).ceil() as u64));
        let timeline = Timeline::new(p.sample_rate_hz, p.recorder_ppm, frames);
        let family = (!p.family.is_classic()).then(|| {
            let voicing = Voicing::draw(p.family, p.seed, ATTACK_MS, [1.0; 3]);
            FamilySound {
                sounding: Sounding::new(&voicing, timeline, gap, CHUNK),
                base: [motor_resonance(m, 0), motor_resonance(m, 1)],
                voicing,
                seed: p.seed,
                max_freq_hz: 0.45 * fs,
            }
        });
        let mut motor = Motor { steps, sound: m.clone(), fs, gap, next: 0, family };
        let mut scratch = vec![0.0; CHUNK];
        let (power, clean_peak, gain) = if motor.family.is_none() {
            // Clean power: exact sum of the rendered click energies over the recording.
            let mut energy = 0.0;
            let mut peak = 0.0f64;
            for st in &motor.steps {
                let start = st.t_recorder_s * fs;
                let a = start.ceil() as u64;
                let b = ((start + CLICK_S * fs).ceil() as u64).min(frames);
                for n in (a..b).filter(|&n| !in_gap(gap, n)) {
                    let v = m.level * st.level * click_shape((n as f64 - start) / fs, st.class, m);
                    energy += v * v;
                    peak = peak.max(v.abs());
                }
            }
            (energy / frames.max(1) as f64, peak, 1.0)
        } else {
            let (power, peak) = power_and_peak(&mut motor, frames, &mut scratch);
            let gain = if peak > 0.0 { m.level / peak } else { 1.0 };
            (power * gain * gain, peak * gain, gain)
        };
        let noise_sigma = (power / 10f64.powf(p.snr_db / 10.0)).sqrt();
        Ok(QuartzSynth {
            params: p.clone(),
            info: AudioInfo {
                sample_rate_hz: p.sample_rate_hz,
                channels: 1,
                frames: Some(frames),
                encoding: "synthetic quartz f32".into(),
            },
            motor,
            missed,
            first_inhibition_s,
            noise_sigma,
            rng: Rng::new(p.seed ^ NOISE_SALT),
            pos: 0,
            gain,
            clean_peak,
            clip_limit: p.clip_level.map_or(f64::INFINITY, |c| c * clean_peak),
            clipped: 0,
            scratch,
        })
    }

    /// Largest sample of the clean watch sound as scaled, before noise and clipping.
    pub fn clean_peak(&self) -> f64 {
        self.clean_peak
    }

    /// The per-recording sound choices of the family (`None` for classic).
    pub fn voicing(&self) -> Option<&Voicing> {
        self.motor.family.as_ref().map(|f| &f.voicing)
    }

    /// Samples clamped to [-1, 1] so far (since the last rewind).
    pub fn clipped_samples(&self) -> u64 {
        self.clipped
    }

    /// The motor steps that sound in the recording, in time order.
    pub fn steps(&self) -> &[SynthStep] {
        &self.motor.steps
    }

    /// The truth to write beside the recording.
    pub fn truth(&self) -> QuartzTruth {
        let p = &self.params;
        QuartzTruth {
            kind: "quartz".into(),
            rate_s_per_month: p.rate_s_per_month,
            rate_s_per_day: p.rate_s_per_month * SECONDS_PER_DAY / SECONDS_PER_MONTH,
            inhibition_period_s: p.inhibition_period_s,
            inhibition_ppm: if p.inhibition_period_s.is_some() { p.inhibition_ppm } else { 0.0 },
            first_inhibition_s: self.first_inhibition_s,
            step_interval_s: p.step_interval_s,
            burst_gap_s: p.burst_gap_s,
            missing_step_prob: p.missing_step_prob,
            stop_at_s: p.stop_at_s,
            steps: self.motor.steps.len(),
            missed_steps: self.missed,
            recorder_ppm: p.recorder_ppm,
            snr_db: p.snr_db,
            sample_rate_hz: p.sample_rate_hz,
            duration_s: p.duration_s,
            seed: p.seed,
            motor: p.motor.clone(),
            family: p.family,
            jitter_us: p.jitter_us,
            jitter_realised_rms_us: {
                let steps = &self.motor.steps;
                let ss: f64 = steps.iter().map(|st| st.jitter_s * st.jitter_s).sum();
                (ss / steps.len().max(1) as f64).sqrt() * 1e6
            },
            clip_level: p.clip_level,
            weak_stretch: p.weak_stretch,
            noise_gap: p.noise_gap,
        }
    }
}

impl BlockSource for QuartzSynth {
    fn info(&self) -> &AudioInfo {
        &self.info
    }

    fn read_frames(&mut self, out: &mut [f32]) -> Result<usize, Error> {
        let total = self.info.frames.unwrap_or(0);
        let n = (out.len() as u64).min(total - self.pos) as usize;
        let lim = self.clip_limit;
        let mut done = 0;
        while done < n {
            let m = (n - done).min(self.scratch.len());
            let buf = &mut self.scratch[..m];
            buf.fill(0.0);
            self.motor.render_add(self.pos + done as u64, self.gain, buf);
            for (o, x) in out[done..done + m].iter_mut().zip(buf.iter()) {
                let v = (x + self.noise_sigma * self.rng.gauss()).clamp(-lim, lim);
                self.clipped += (v.abs() > 1.0) as u64;
                *o = v.clamp(-1.0, 1.0) as f32;
            }
            done += m;
        }
        self.pos += n as u64;
        Ok(n)
    }

    fn rewind(&mut self) -> Result<(), Error> {
        self.pos = 0;
        self.clipped = 0;
        self.motor.reset();
        self.rng = Rng::new(self.params.seed ^ NOISE_SALT);
        Ok(())
    }
}
