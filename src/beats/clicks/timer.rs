//! The streaming side of [`ClickTimer`]: set-up, feeding samples, detection, and the end of
//! the stream.

use super::*;

impl ClickTimer {
    /// A timer for audio at `sample_rate_hz`. `expected_duration_s`, when known, reserves the
    /// click list so that pushing never reallocates.
    pub fn new(
        sample_rate_hz: u32,
        cfg: &ClickConfig,
        expected_duration_s: Option<f64>,
    ) -> Result<Self, Error> {
        let fs = sample_rate_hz as f64;
        let bad = |s: &str| Err(Error::Config(s.to_string()));
        if !(8000.0..=768_000.0).contains(&fs) {
            return bad("sample rate must be 8000..768000 Hz");
        }
        if !(cfg.nominal_period_s > 0.0 && cfg.nominal_period_s.is_finite()) {
            return bad("nominal period must be positive");
        }
        if !(cfg.highpass_hz > 0.0 && cfg.highpass_hz < 0.4 * fs) {
            return bad("high-pass corner must lie between 0 and 0.4 x the sample rate");
        }
        if !(0.001..=0.05).contains(&cfg.click_len_s) {
            return bad("click length must be 1..50 ms");
        }
        if !(0.001..=10.0).contains(&cfg.min_gap_s) {
            return bad("minimum gap must be 1 ms..10 s");
        }
        if !(0.0..1.0).contains(&cfg.min_corr) || !(3..=64).contains(&cfg.template_clicks) {
            return bad("min_corr must be in [0, 1) and template_clicks in 3..=64");
        }
        let ms = |x: f64| ((x * 1e-3 * fs).round() as usize).max(2);
        let len = ((cfg.click_len_s * fs).round() as usize).max(16);
        let guard = ms(0.5);
        let lag_max = ms(3.0).max(8);
        let pre = guard + lag_max + ms(1.0);
        let n = (pre + len + lag_max + ms(1.0)).next_power_of_two().max(256);
        let mut planner = RealFftPlanner::<f64>::new();
        let r2c = planner.plan_fft_forward(n);
        let c2r = planner.plan_fft_inverse(n);
        let nc = n / 2 + 1;
        let ring_len = (4 * n).next_power_of_two();
        let m = cfg.template_clicks;
        let cap = expected_duration_s
            .map(|d| (2.0 * d / cfg.nominal_period_s).ceil() as usize + 64)
            .unwrap_or(4096)
            .min(cfg.max_clicks);
        let env_tau = 0.0005 * fs;
        let envt = EnvelopeTimer::with_plans(r2c.clone(), c2r.clone(), fs);
        let onset = OnsetTimer::with_plans(r2c.clone(), c2r.clone(), fs);
        let partials = PartialsTimer::with_plans(r2c.clone(), c2r.clone(), fs);
        Ok(ClickTimer {
            cfg: cfg.clone(),
            fs,
            hp: [Biquad::highpass(cfg.highpass_hz, fs), Biquad::highpass(cfg.highpass_hz, fs)],
            ring: vec![0.0; ring_len],
            mask: ring_len - 1,
            pos: 0,
            env: 0.0,
            env_a: 1.0 - (-1.0 / env_tau).exp(),
            sub_len: ms(5.0),
            sub_acc: 0.0,
            sub_cnt: 0,
            n_sub: 0,
            log_floor: 0.0,
            refractory_until: 0,
            min_gap: (cfg.min_gap_s * fs).round() as u64,
            pending: [0; 32],
            pending_head: 0,
            pending_len: 0,
            n,
            pre,
            guard,
            len,
            lag_max,
            seg: vec![0.0; n],
            fft_in: r2c.make_input_vec(),
            spec: r2c.make_output_vec(),
            cross: c2r.make_input_vec(),
            work: c2r.make_input_vec(),
            corr: c2r.make_output_vec(),
            scratch_f: r2c.make_scratch_vec(),
            scratch_i: c2r.make_scratch_vec(),
            r2c,
            c2r,
            learn_seg: vec![0.0; m * n],
            learn_spec: vec![Complex::new(0.0, 0.0); m * nc],
            learn_s0: vec![0; m],
            n_learn: 0,
            templates: [vec![Complex::new(0.0, 0.0); nc], vec![Complex::new(0.0, 0.0); nc]],
            n_classes: 0,
            learned: false,
            clicks: Vec::with_capacity(cap),
            detections: 0,
            rejected: 0,
            dropped: 0,
            support_energy: 0.0,
            envt,
            env_times: Vec::with_capacity(cap),
            onset,
            onset_times: Vec::with_capacity(cap),
            partials,
            partial_times: Vec::with_capacity(cap),
            partials_learned: false,
            part_specs: vec![Complex::new(0.0, 0.0); matching::PARTIALS_LEARN_CLICKS * nc],
            part_pending: Vec::with_capacity(matching::PARTIALS_LEARN_CLICKS),
            window: learn::support_window(n, pre - guard, len, guard),
        })
    }

    /// The clicks timed so far (the first ones appear once the templates are built).
    pub fn clicks(&self) -> &[Click] {
        &self.clicks
    }

    /// Feeds mono samples.
    pub fn push(&mut self, samples: &[f32]) {
        self.push_interleaved(samples, 1, 0);
    }

    /// Feeds interleaved frames with `channels` per frame, analysing `channel`.
    pub fn push_interleaved(&mut self, frames: &[f32], channels: usize, channel: usize) {
        let channels = channels.max(1);
        let thr_factor = 10f64.powf(self.cfg.threshold_db / 10.0);
        let mut i = channel;
        while i < frames.len() {
            let x = frames[i] as f64;
            i += channels;
            let y0 = self.hp[0].run(x);
            let y = self.hp[1].run(y0);
            let p = y * y;
            self.ring[(self.pos as usize) & self.mask] = y;
            self.sub_acc += p;
            self.sub_cnt += 1;
            if self.sub_cnt == self.sub_len {
                self.update_floor();
            }
            self.env += self.env_a * (p - self.env);
            if self.n_sub >= 20
                && self.pos >= self.refractory_until
                && self.env > thr_factor * 10f64.powf(self.log_floor)
            {
                self.detections += 1;
                self.refractory_until = self.pos + self.min_gap;
                if self.pos >= self.pre as u64 && self.pending_len < self.pending.len() {
                    let slot = (self.pending_head + self.pending_len) % self.pending.len();
                    self.pending[slot] = self.pos;
                    self.pending_len += 1;
                }
            }
            self.pos += 1;
            while self.pending_len > 0 {
                let d = self.pending[self.pending_head];
                let s0 = d - self.pre as u64;
                if self.pos < s0 + self.n as u64 {
                    break;
                }
                self.pending_head = (self.pending_head + 1) % self.pending.len();
                self.pending_len -= 1;
                self.on_detection(s0);
            }
        }
    }

    /// Running median of the log band power of 5 ms sub-blocks (a fixed-step quantile tracker,
    /// fast for the first 0.2 s, then 0.01 decade per sub-block).
    fn update_floor(&mut self) {
        let lp = (self.sub_acc / self.sub_len as f64).max(1e-30).log10();
        if self.n_sub == 0 {
            self.log_floor = lp;
        } else {
            let step = if self.n_sub < 40 { 0.1 } else { 0.01 };
            if lp > self.log_floor {
                self.log_floor += step;
            } else if lp < self.log_floor {
                self.log_floor -= step;
            }
        }
        self.n_sub += 1;
        self.sub_acc = 0.0;
        self.sub_cnt = 0;
    }

    fn copy_segment(&mut self, s0: u64) {
        for k in 0..self.n {
            self.seg[k] = self.ring[((s0 + k as u64) as usize) & self.mask];
        }
    }

    fn on_detection(&mut self, s0: u64) {
        self.copy_segment(s0);
        if self.learned {
            self.time_segment(s0);
            return;
        }
        let k = self.n_learn;
        let n = self.n;
        self.learn_seg[k * n..(k + 1) * n].copy_from_slice(&self.seg);
        self.learn_s0[k] = s0;
        self.n_learn += 1;
        if self.n_learn == self.cfg.template_clicks {
            self.learn(false);
        }
    }

    /// Ends the stream: builds the templates if fewer detections than asked were seen, and
    /// returns the click train.
    pub fn finish(mut self) -> ClickTrain {
        if !self.learned {
            self.learn(true);
        }
        if !self.partials_learned {
            self.learn_partials();
        }
        let noise_p = 10f64.powf(self.log_floor);
        let duration_s = self.pos as f64 / self.fs;
        let signal_p = if self.pos > 0 {
            (self.support_energy - noise_p * (self.len * self.clicks.len()) as f64) / self.pos as f64
        } else {
            0.0
        };
        let snr_db = if self.clicks.is_empty() || self.n_sub == 0 {
            None
        } else {
            Some(10.0 * (signal_p.max(1e-30) / noise_p.max(1e-300)).log10())
        };
        let wave: Vec<f64> = self.clicks.iter().map(|c| c.t_s).collect();
        let classes: Vec<u8> = self.clicks.iter().map(|c| c.class).collect();
        let candidates = [
            (ClickTiming::Waveform, &wave[..]),
            (ClickTiming::Envelope, &self.env_times[..]),
            (ClickTiming::Onset, &self.onset_times[..]),
            (ClickTiming::Partials, &self.partial_times[..]),
        ];
        let timing = choose(&candidates, &classes, self.cfg.nominal_period_s);
        let chosen = candidates.iter().find(|c| c.0 == timing).map_or(&wave[..], |c| c.1);
        for (c, &t) in self.clicks.iter_mut().zip(chosen) {
            c.t_s = t;
        }
        ClickTrain {
            timing,
            clicks: self.clicks,
            classes: self.n_classes,
            sample_rate_hz: self.fs as u32,
            duration_s,
            detections: self.detections,
            rejected: self.rejected,
            dropped: self.dropped,
            noise_rms: noise_p.sqrt(),
            snr_db,
        }
    }
}
