//! The sub-events of a beat in an averaged (high-SNR) waveform envelope: the unlock (the first
//! sound of the beat) and the drop, each located at its onset.
//!
//! The onset of an event is the steepest point of its envelope's leading edge. With the
//! zero-phase band weighting used upstream the envelope of a sharp onset is blurred
//! symmetrically, so its steepest rise sits on the onset itself, for a faint unlock and a loud
//! drop alike; and unlike a level crossing it does not move with the pedestal an event stands
//! on (the tail of the sub-event before it, the case ringing, an echo), which differs from one
//! side of the beat to the other. Two more rules are read on the same edge: where the tangent at
//! the steepest rise meets the edge's foot (the start of a sound that swells rather than
//! strikes), and half of the rise. How far the three disagree says how well the onset is
//! defined, and how much a figure moves between them is part of its uncertainty.

/// The onset rules read on every edge, in the order of [`Rules`]: the tangent's foot, half of
/// the rise, the steepest rise (the onset reported).
pub const RULES: usize = 3;

/// One edge read by every onset rule (samples from the frame origin): where the tangent at the
/// steepest rise meets the level of the edge's foot, half of the way from the foot to the peak,
/// and the steepest rise.
pub type Rules = [f64; RULES];

/// The rule that reads the start of a swelling sound: the tangent's foot.
pub const TANGENT_FOOT: usize = 0;

/// The rule whose reading is the onset: the steepest rise.
pub const STEEPEST: usize = 2;

/// Onsets found in one averaged beat.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Events {
    /// Unlock onset (samples from the frame origin): its steepest rise.
    pub unlock: f64,
    /// Drop onset (samples from the frame origin), `None` when no drop was found.
    pub drop: Option<f64>,
    /// Envelope floor (the noise left in the average).
    pub floor: f32,
    /// Peak of the loudest event.
    pub peak: f32,
    /// The unlock's edge read by every rule ([`Rules`]); `unlock` is its [`STEEPEST`].
    pub unlock_rules: Rules,
    /// The same for the drop (when there is one).
    pub drop_rules: Option<Rules>,
}

impl Events {
    /// How ill-defined the unlock onset is: the range of the rules on its edge, samples (zero
    /// for a clean step; wide where the sound grows slowly or its partials interfere).
    pub fn unlock_spread(&self) -> f64 {
        spread(&self.unlock_rules)
    }

    /// The same for the drop (0 without one).
    pub fn drop_spread(&self) -> f64 {
        self.drop_rules.as_ref().map_or(0.0, spread)
    }
}

fn spread(r: &Rules) -> f64 {
    r.iter().copied().fold(f64::NEG_INFINITY, f64::max) - r.iter().copied().fold(f64::INFINITY, f64::min)
}

/// Turns an averaged power envelope into an amplitude envelope with the noise pedestal taken
/// off: the averaged power of a sound plus independent noise is the sound's power plus the
/// noise power, so subtracting the floor (20th percentile) and taking the root leaves the
/// sound's own envelope, undistorted at the foot of each onset.
pub fn from_power(power: &[f64], count: f64, out: &mut [f32]) {
    let mut scratch = vec![0.0f64; power.len()];
    from_power_with(power, count, out, &mut scratch);
}

/// [`from_power`] with caller-owned scratch (at least `power.len()` long): allocates nothing.
pub fn from_power_with(power: &[f64], count: f64, out: &mut [f32], scratch: &mut [f64]) {
    let n = power.len();
    let tmp = &mut scratch[..n];
    for (t, p) in tmp.iter_mut().zip(power) {
        *t = p / count.max(1.0);
    }
    let k = ((n as f64 - 1.0) * 0.2) as usize;
    let floor = *tmp.select_nth_unstable_by(k, |a, b| a.total_cmp(b)).1;
    for (o, p) in out.iter_mut().zip(power) {
        *o = (p / count.max(1.0) - floor).max(0.0).sqrt() as f32;
    }
}

/// The physical range of unlock-to-drop times, in samples, for a beat period `p_s` seconds at
/// `fs` samples per second and lift angle `lift_deg`: amplitudes from 90 to 400 degrees.
pub fn unlock_to_drop_range(p_s: f64, fs: f64, lift_deg: f64) -> (f64, f64) {
    let t = 2.0 * p_s;
    let time = |amp: f64| t / std::f64::consts::PI * (lift_deg / (2.0 * amp)).clamp(-1.0, 1.0).asin() * fs;
    (time(400.0), time(90.0))
}

fn local_peak_after(env: &[f32], from: usize, to: usize) -> usize {
    // The first local maximum after `from` that is not just a ripple: walk up while rising.
    let mut i = from.min(env.len() - 1);
    let to = to.min(env.len() - 1);
    while i < to && env[i + 1] >= env[i] {
        i += 1;
    }
    i
}

/// How much louder than a local peak the rise that follows it closely must be for the peak to
/// be only a ripple on that rise's skirt: an unlock followed within a fraction of a millisecond
/// by a louder impulse is still an event of its own.
pub const SKIRT_RATIO: f32 = 4.0;

/// The time, seconds, within which sub-events are merged into the event they lead (callers
/// pass `merge` = `MERGE_S * fs`).
pub const MERGE_S: f64 = 0.0006;

/// The longest dip of a ripple, seconds: the band edge (20 kHz at most) ripples with a period
/// of 50 us, so a dip that the envelope recovers from within 60 us is ripple, not a valley.
pub const RIPPLE_S: f64 = 60e-6;

/// The shallowest a ripple's dip is, as a fraction of its peak (above the floor): the ripple on
/// a skirt modulates it by about a quarter; a valley between two events goes deeper.
pub const RIPPLE_DEPTH: f32 = 0.65;

/// How far ahead of itself the analysis band spreads a sharp onset, seconds: `t` seconds before
/// the onset of a sound whose envelope peaks at `H` (above the floor), the band's own pre-echo
/// (its Gibbs ringing) reaches `H * PRE_ECHO_S / t` where the band reaches 20 kHz. Measured on
/// the band's response to damped resonances that start abruptly (2-12 kHz, 0.1-2 ms decays, any
/// phase, 0-40 us attacks), as the most each reaches over 3-40 samples ahead at 48 kHz: 7 us / t
/// for half of them, 12 us / t for four in five, 37 us / t for the worst (22% of the peak 6
/// samples ahead). Four in five, not the worst: a peak under the worst's reach can also be the
/// swelling start of a sound of its own (a burst of noise), which the worst's bound passed over.
pub const PRE_ECHO_S: f64 = 12e-6;

/// The same for a band that ends lower, in periods of its upper edge: the worst pre-echo reaches
/// about 0.4 / f_hi (54 us / t at 16 kHz, where the band ends at 6.7 kHz; 125 us / t at 8 kHz);
/// the four in five are taken as a third of it, as at 20 kHz.
pub const PRE_ECHO_CYCLES: f64 = 0.13;

/// The pre-echo's reach at sample rate `fs`, samples (see [`PRE_ECHO_S`]).
fn pre_echo_samples(fs: f64) -> f64 {
    let hi = crate::conditioning::spectral::Band::ticks(fs).pass_hi_hz;
    fs * PRE_ECHO_S.max(PRE_ECHO_CYCLES / hi)
}

/// The upper band edge the ripple and skirt times are set for: 20 kHz, the analysis band's edge
/// at 48 kHz and up.
pub const FULL_BAND_HZ: f64 = 20_000.0;

/// How much longer than at [`FULL_BAND_HZ`] a band-limited onset rings ahead of itself at
/// sample rate `fs`: the ripple and the skirt of an onset scale with the inverse of the band's
/// upper edge (at 16 kHz the band ends at 6.7 kHz and its ripple is three times as slow).
pub fn band_stretch(fs: f64) -> f64 {
    (FULL_BAND_HZ / crate::conditioning::spectral::Band::ticks(fs).pass_hi_hz).max(1.0)
}

/// The first peak of the event that rises at `from`: the first local maximum, passed over while
/// it is only a ripple on the event's skirt, that is while the envelope regains it within
/// [`RIPPLE_S`] and goes on to more than [`SKIRT_RATIO`] times its height (above `floor`)
/// within `merge` samples, without falling below [`RIPPLE_DEPTH`] of it in between (both times
/// lengthened by [`band_stretch`] where the band ends below [`FULL_BAND_HZ`]).
/// The band limit spreads a loud onset a little ahead of itself, and its band edge leaves a
/// ripple on that skirt; a faint event of its own is followed by a valley before the next.
/// Where the skirt is no higher than the band's own pre-echo of the louder sound reaches (four
/// times in five, see [`PRE_ECHO_S`]), its ripple can dip nearly to the floor between samples: the
/// skirt is read on its upper hull (the highest the envelope reaches within a ripple), which a
/// pre-echo keeps rising towards its onset; a faint event of its own decays before the louder
/// sound rises, and its hull falls below its peak.
fn first_peak(env: &[f32], from: usize, to: usize, floor: f32, merge: f64) -> usize {
    let stretch = band_stretch(merge / MERGE_S);
    let ripple = (merge * stretch * RIPPLE_S / MERGE_S).round().max(2.0) as usize;
    let skirt = (merge * stretch).max(2.0) as usize;
    let pre_echo = pre_echo_samples(merge / MERGE_S);
    let mut up = local_peak_after(env, from, to);
    loop {
        let end = (up + skirt).min(to);
        let h = env[up] - floor;
        let regained = (up + 1..=(up + ripple).min(to)).any(|i| env[i] >= env[up]);
        let Some(m) = (up + 1..=end).find(|&i| env[i] - floor > SKIRT_RATIO * h) else { return up };
        let dip = env[up..=m].iter().copied().fold(f32::INFINITY, f32::min) - floor;
        let echo = || {
            let louder = env[m..=(m + skirt).min(to)].iter().copied().fold(f32::MIN, f32::max) - floor;
            let hull = (up..m).map(|i| env[i..=(i + ripple).min(m)].iter().copied().fold(f32::MIN, f32::max));
            h as f64 <= louder as f64 * pre_echo / (m - up) as f64
                && hull.fold(f32::INFINITY, f32::min) >= env[up]
        };
        if !regained || (dip <= RIPPLE_DEPTH * h && !echo()) {
            return up;
        }
        up = local_peak_after(env, m, to);
    }
}

/// Onset of the event whose first peak is at `peak`: the steepest point of its leading edge,
/// searched from the valley before it (not before `from`), refined with a parabola.
///
/// A sharp onset blurred by the zero-phase band limit rises steepest exactly at the onset,
/// whatever the later interference between the event's partials does to its peak.
fn steepest_rise(env: &[f32], from: usize, peak: usize, floor: f32) -> f64 {
    let from = from.max(1);
    if peak <= from + 1 {
        return peak as f64;
    }
    let v = valley(env, from, peak, floor);
    let slope = |i: usize| env[i + 1] as f64 - env[i - 1] as f64;
    let lo = v.max(1);
    let hi = peak.min(env.len() - 2);
    if lo >= hi {
        return peak as f64;
    }
    let mut m = lo;
    for i in lo..=hi {
        if slope(i) > slope(m) {
            m = i;
        }
    }
    if m > 1 && m + 2 < env.len() {
        let (y0, y1, y2) = (slope(m - 1), slope(m), slope(m + 1));
        let d = y0 - 2.0 * y1 + y2;
        if d < 0.0 {
            return m as f64 + (0.5 * (y0 - y2) / d).clamp(-0.5, 0.5);
        }
    }
    m as f64
}

/// The edge of the event whose first peak is at `peak` (the valley before it searched back to
/// `from`) read by every rule: its tangent's foot (see [`tangent_foot`]), half of the way up,
/// and the steepest rise.
fn rules(env: &[f32], from: usize, peak: usize, floor: f32) -> Rules {
    let foot = valley(env, from.min(peak), peak, floor);
    let steepest = steepest_rise(env, from, peak, floor);
    [tangent_foot(env, foot, steepest), crossing(env, foot, peak, 0.5), steepest]
}

/// Where the tangent to the edge at its steepest point `steepest` meets the level of its foot
/// `foot`, interpolated; never before the foot nor after the steepest point.
///
/// A sharp onset blurred by the band limit rises steepest at the onset itself, but a sound that
/// swells over a tenth of a millisecond or more rises steepest halfway up its swell, after the
/// sound began: the tangent's foot is the start of a linear swell. Where the unlock swells and
/// the drop is sharp (or the reverse), the steepest rises misread the time between them by
/// half the swell; the spread of the rules, in every u95, then holds that.
fn tangent_foot(env: &[f32], foot: usize, steepest: f64) -> f64 {
    if env.len() < 3 || steepest <= foot as f64 + 1.0 {
        return steepest;
    }
    let m = (steepest.round() as usize).clamp(1, env.len() - 2);
    let slope = 0.5 * (env[m + 1] as f64 - env[m - 1] as f64);
    if slope <= 0.0 {
        return steepest;
    }
    let i = (steepest.floor() as usize).min(env.len() - 2);
    let f = steepest - i as f64;
    let level = env[i] as f64 + f * (env[i + 1] as f64 - env[i] as f64);
    (steepest - (level - env[foot] as f64) / slope).clamp(foot as f64, steepest)
}

/// A dip on an event's leading edge shallower than this fraction of the event's height above
/// the floor is noise on the edge (or partials beating), not the valley before the event.
pub const EDGE_DIP: f32 = 0.15;

/// The foot of the edge that rises to `peak`: the lowest point passed walking back from the
/// peak (not before `from`) while the envelope stays within [`EDGE_DIP`] of the event's height
/// above the lowest point so far. A noisy plateau halfway up does not end the edge; the tail of
/// an earlier sound rising again (backwards) does.
fn valley(env: &[f32], from: usize, peak: usize, floor: f32) -> usize {
    let tol = EDGE_DIP * (env[peak] - floor).max(0.0);
    let (mut i, mut lowest) = (peak, peak);
    while i > from && env[i - 1] <= env[lowest] + tol {
        i -= 1;
        if env[i] < env[lowest] {
            lowest = i;
        }
    }
    lowest
}

/// Where the edge rising from its foot `from` (see [`valley`]) to `peak` crosses `frac` of the
/// way up, interpolated between samples.
fn crossing(env: &[f32], from: usize, peak: usize, frac: f32) -> f64 {
    let valley = env[from];
    let level = valley + frac * (env[peak] - valley);
    let mut i = peak;
    while i > from && env[i - 1] >= level {
        i -= 1;
    }
    if i == 0 || i == from {
        return i as f64;
    }
    let (a, b) = (env[i - 1], env[i]);
    (i - 1) as f64 + if b > a { ((level - a) / (b - a)) as f64 } else { 0.0 }
}

/// The range of fractions of the loudest event (above the floor) that the first sound of a beat
/// must reach to be taken for its unlock: as low as the noise allows (a sharp drop can stand
/// fifteen times above a real unlock, and the height of a sharp click depends on the analysis
/// band more than its energy does), never higher than a tenth.
pub const UNLOCK_LEVEL: (f32, f32) = (0.03, 0.1);

/// How far above the floor the unlock must rise, in units of the highest the envelope reaches
/// (above the floor) in the quiet lead of the frame: the noise's excursions.
pub const QUIET_MARGIN: f32 = 2.0;

/// Every beat frame starts a little before the first sound of the template (2 ms before its
/// support); its first millisecond, in samples at `fs`, is quiet: only noise.
pub fn quiet_lead(fs: f64) -> usize {
    (0.001 * fs) as usize
}

/// How far above the floor the unlock must rise: [`QUIET_MARGIN`] times the noise's excursions
/// over the quiet lead `lead` (when there is one: 8 samples or more), within [`UNLOCK_LEVEL`]
/// of the loudest event (`peak`).
fn unlock_margin(lead: &[f32], floor: f32, peak: f32) -> f32 {
    let range = peak - floor;
    if lead.len() < 8 {
        return UNLOCK_LEVEL.1 * range;
    }
    let ceiling = lead.iter().copied().fold(floor, f32::max) - floor;
    (QUIET_MARGIN * ceiling).clamp(UNLOCK_LEVEL.0 * range, UNLOCK_LEVEL.1 * range)
}

fn percentile(v: &[f32], q: f64, scratch: &mut [f32]) -> f32 {
    let s = &mut scratch[..v.len()];
    s.copy_from_slice(v);
    let k = ((s.len() as f64 - 1.0) * q) as usize;
    *s.select_nth_unstable_by(k, |a, b| a.total_cmp(b)).1
}

/// Finds the unlock and the drop in the envelope `env` (samples `0..len` of a frame, the beat
/// inside `lo..hi`), with the unlock-to-drop time limited to `t_range` samples.
///
/// Unlock: the first rise after the frame's quiet lead (its first `quiet` samples, see
/// [`quiet_lead`]; 0 when unknown) clear of that lead's noise, see `unlock_margin`.
/// Drop: the loudest event whose onset lies within `t_range` after the unlock (its first peak
/// within `merge` samples, see the body).
pub fn find(
    env: &[f32],
    lo: usize,
    hi: usize,
    t_range: (f64, f64),
    merge: f64,
    quiet: usize,
) -> Option<Events> {
    let mut scratch = vec![0.0f32; env.len()];
    find_with(env, lo, hi, t_range, merge, quiet, &mut scratch)
}

/// [`find`] with caller-owned scratch (at least `env.len()` long): allocates nothing.
pub fn find_with(
    env: &[f32],
    lo: usize,
    hi: usize,
    t_range: (f64, f64),
    merge: f64,
    quiet: usize,
    scratch: &mut [f32],
) -> Option<Events> {
    let hi = hi.min(env.len());
    if hi <= lo + 8 {
        return None;
    }
    let seg = &env[lo..hi];
    let floor = percentile(seg, 0.2, scratch);
    let (imax, &peak) = seg.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1))?;
    let imax = imax + lo;
    if peak <= floor * 1.5 {
        return None;
    }
    let thr = floor + unlock_margin(&env[lo..(lo + quiet).min(hi)], floor, peak);
    // Searched after the quiet lead: its noise is what the threshold is measured on.
    let first = ((lo + quiet).min(hi - 1)..hi).find(|&i| env[i] > thr)?;
    let up = first_peak(env, first, hi - 1, floor, merge);
    let ufrom = first.saturating_sub(((up - first) * 3).max(8)).max(lo);
    let unlock_rules = rules(env, ufrom, up, floor);
    let unlock = unlock_rules[STEEPEST];
    let mut drop_rules = None;
    // Drop: loudest local peak whose onset falls in the physical window after the unlock.
    let w_lo = unlock + t_range.0 * 0.8;
    let w_hi = (unlock + t_range.1 * 1.05).min(hi as f64 - 2.0);
    let start = (w_lo.max(lo as f64) as usize).max(up + 1);
    let end = ((w_hi as usize) + 1).min(hi - 1);
    let is_peak = |i: usize| env[i] > env[i - 1] && env[i] >= env[i + 1];
    // The drop is the loudest sound after the unlock. Interference between the partials of the
    // drop's own sound can make a peak a fraction of a millisecond after its attack louder than
    // the attack's, so an earlier peak at least half as loud within `merge` samples before the
    // loudest is the drop's first, and so on back while such peaks follow each other within
    // `merge`, as far as the window the attack is measured over (`w`, about a millisecond): a
    // sound whose envelope swells and fluctuates for a millisecond or more (a burst of noise, a
    // ringing that beats) has its sharpest attack anywhere in it, not at its start.
    // Sub-events further before it (the impulse, lever noises on a real watch) are not.
    //
    // "Loudest" is read as the sharpest attack: the most the envelope rises within about a
    // millisecond before a peak. A drop is the loudest attack after the unlock even where the
    // ringing of the case or the room keeps the level of earlier sounds up (a contact microphone,
    // an echo), or where the unlock itself is the louder sound.
    let w = (2.0 * merge).max(8.0) as usize;
    let rise = |i: usize| env[i] - env[i.saturating_sub(w)..i].iter().copied().fold(f32::INFINITY, f32::min);
    let loudest = (start..end).filter(|&i| is_peak(i)).max_by(|&a, &b| rise(a).total_cmp(&rise(b)));
    let first_strong = loudest.filter(|&l| rise(l) > 0.15 * (peak - floor)).map(|l| {
        let half = floor + 0.5 * (env[l] - floor);
        let reach = l.saturating_sub(w).max(start) as f64;
        let mut p = l;
        loop {
            let from = (p as f64 - merge).max(reach) as usize;
            match (from..p).find(|&i| is_peak(i) && env[i] >= half) {
                Some(q) => p = q,
                None => break p,
            }
        }
    });
    let drop = first_strong.and_then(|p| {
        let back = (p as f64 - 0.5 * (p as f64 - unlock)).max(up as f64) as usize;
        let r = rules(env, back, p, floor);
        let on = r[STEEPEST];
        let plausible = on > unlock + 0.5 * t_range.0 && on < unlock + t_range.1 * 1.05;
        drop_rules = plausible.then_some(r);
        plausible.then_some(on)
    });
    let _ = imax;
    Some(Events { unlock, drop, floor, peak, unlock_rules, drop_rules })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(onsets: &[(f64, f32)], n: usize, tau: f64) -> Vec<f32> {
        (0..n)
            .map(|i| {
                let x = i as f64;
                let mut v = 0.01f32;
                for &(t0, a) in onsets {
                    // A symmetric blur of a sharp onset followed by an exponential decay.
                    let rise = 0.5 * (1.0 + ((x - t0) / 1.5).tanh());
                    v += a * (rise * (-(x - t0).max(0.0) / tau).exp()) as f32;
                }
                v
            })
            .collect()
    }

    #[test]
    fn finds_unlock_and_drop_onsets() {
        let env = env_of(&[(100.0, 0.3), (140.0, 0.5), (420.0, 1.0)], 1000, 20.0);
        let e = find(&env, 0, 1000, (200.0, 600.0), 10.0, 50).unwrap();
        // The steepest rise of a step blurred symmetrically is the step itself.
        assert!((e.unlock - 100.0).abs() < 0.5, "unlock {}", e.unlock);
        assert!((e.drop.unwrap() - 420.0).abs() < 0.5, "drop {:?}", e.drop);
        assert!((e.drop.unwrap() - e.unlock - 320.0).abs() < 0.3, "{e:?}");
    }

    #[test]
    fn a_drop_whose_sharpest_attack_comes_late_in_its_sound_is_read_at_its_start() {
        // A drop of three attacks 9 samples apart (within `merge` of each other, not of the
        // first and the last), the last the sharpest, each falling most of the way back before
        // the next: the onset is the first attack's.
        let env = env_of(&[(100.0, 0.3), (420.0, 0.8), (429.0, 0.8), (438.0, 1.0)], 1000, 6.0);
        let e = find(&env, 0, 1000, (200.0, 600.0), 10.0, 50).unwrap();
        assert!((e.drop.unwrap() - 420.0).abs() < 0.5, "drop {:?}", e.drop);
    }

    #[test]
    fn a_drop_on_the_rising_pedestal_of_other_sounds_keeps_its_onset() {
        // The same drop alone and on a pedestal that grows over the 40 samples before it (the
        // sounds of the impulse swelling into it, as on one side of a beat and not the other):
        // the rules read from the foot's level move with the pedestal, the onset (the steepest
        // rise) does not, and the rules' spread says the edge is less well defined.
        let alone = env_of(&[(100.0, 0.3), (420.0, 1.0)], 1000, 20.0);
        let mut pedestal = alone.clone();
        for (i, v) in pedestal.iter_mut().enumerate().skip(380) {
            let x = i as f32 - 380.0;
            *v += if x < 40.0 { 0.25 * x / 40.0 } else { 0.25 * (-(x - 40.0) / 20.0).exp() };
        }
        let find = |e: &[f32]| find(e, 0, 1000, (200.0, 600.0), 10.0, 50).unwrap();
        let (a, p) = (find(&alone), find(&pedestal));
        let (da, dp) = (a.drop_rules.unwrap(), p.drop_rules.unwrap());
        let moved = |k: usize| (da[k] - dp[k]).abs();
        assert!(moved(STEEPEST) < 0.3, "{a:?} vs {p:?}");
        assert!(moved(TANGENT_FOOT) > 5.0 * moved(STEEPEST), "the foot's rule moves: {da:?} vs {dp:?}");
        assert!(moved(1) > 5.0 * moved(STEEPEST), "the half-rise rule moves: {da:?} vs {dp:?}");
        assert!(p.drop_spread() > a.drop_spread() + 0.5, "{a:?} vs {p:?}");
    }

    #[test]
    fn a_sound_that_swells_is_read_from_its_start_by_the_tangents_foot() {
        // A drop that swells linearly over 24 samples from 420, then decays: it rises steepest
        // all along the swell, and the steepest-rise rule reads somewhere inside it; the
        // tangent's foot is the swell's start. A sharp unlock has every rule agree.
        let n = 1000;
        let env: Vec<f32> = (0..n)
            .map(|i| {
                let x = i as f32;
                let unlock = if x >= 100.0 { 0.3 * (-(x - 100.0) / 8.0).exp() } else { 0.0 };
                let swell = ((x - 420.0) / 24.0).clamp(0.0, 1.0);
                let drop = if x < 444.0 { swell } else { (-(x - 444.0) / 20.0).exp() };
                0.01 + unlock + drop
            })
            .collect();
        let e = find(&env, 0, n, (200.0, 600.0), 10.0, 50).unwrap();
        let d = e.drop_rules.unwrap();
        assert!((d[TANGENT_FOOT] - 420.0).abs() < 1.5, "tangent's foot {d:?}");
        assert!(d[STEEPEST] > 423.0, "the steepest rise is inside the swell: {d:?}");
        assert!(e.drop_spread() >= d[STEEPEST] - d[TANGENT_FOOT], "{e:?}");
        let u = e.unlock_rules;
        assert!((u[TANGENT_FOOT] - u[STEEPEST]).abs() < 1.5, "a sharp onset: {u:?}");
    }

    #[test]
    fn a_faint_unlock_far_below_a_sharp_drop_is_the_unlock() {
        // The unlock at 6% of the drop: under the tenth that used to be required.
        let env = env_of(&[(100.0, 0.06), (420.0, 1.0)], 1000, 8.0);
        let e = find(&env, 0, 1000, (200.0, 600.0), 10.0, 50).unwrap();
        assert!((e.unlock - 100.0).abs() < 1.0, "unlock {}", e.unlock);
        assert!((e.drop.unwrap() - 420.0).abs() < 1.0, "drop {:?}", e.drop);
    }

    #[test]
    fn a_ripple_on_the_skirt_of_a_loud_onset_is_not_the_unlock() {
        // A skirt rising over 20 samples ahead of a loud onset, with a band-edge ripple on it
        // (every other sample a fifth lower), above the unlock threshold.
        let mut env = env_of(&[(100.0, 1.0), (420.0, 0.8)], 1000, 20.0);
        for (i, v) in env.iter_mut().enumerate().take(99).skip(80) {
            let skirt = 0.004 * (i - 79) as f32;
            *v += if i % 2 == 0 { skirt } else { 0.8 * skirt };
        }
        let e = find(&env, 0, 1000, (200.0, 600.0), 29.0, 50).unwrap();
        assert!((e.unlock - 100.0).abs() < 1.5, "unlock {}", e.unlock);
    }

    #[test]
    fn the_bands_pre_echo_of_a_loud_onset_is_not_the_unlock_however_deep_its_ripple() {
        // The band's own pre-echo ahead of a loud sharp onset at 100 (48 kHz, merge 0.6 ms):
        // falling off as 1/t, as high as half of all sharp sounds throw it (0.35 / t, t in
        // samples) from 30 to 4 samples out, above the unlock threshold from 11, and dipping to the
        // floor every other sample (its ripple sampled near its zeros).
        let mut env = env_of(&[(100.0, 1.0), (420.0, 0.8)], 1000, 20.0);
        for (i, v) in env.iter_mut().enumerate().take(97).skip(70) {
            let skirt = 0.35 / (100 - i) as f32;
            *v += if i % 2 == 0 { skirt } else { 0.1 * skirt };
        }
        let e = find(&env, 0, 1000, (200.0, 600.0), 29.0, 50).unwrap();
        assert!((e.unlock - 100.0).abs() < 1.5, "unlock {}", e.unlock);
    }

    #[test]
    fn an_unlock_just_before_a_louder_impulse_stays_the_unlock() {
        // Unlock, then within half a merge span an impulse five times louder, then the drop.
        let env = env_of(&[(100.0, 0.12), (108.0, 0.6), (420.0, 1.0)], 1000, 3.0);
        let e = find(&env, 0, 1000, (200.0, 600.0), 20.0, 50).unwrap();
        assert!((e.unlock - 100.0).abs() < 1.0, "unlock {}", e.unlock);
    }

    #[test]
    fn noise_in_the_quiet_lead_raises_the_unlock_threshold() {
        // A bump of 5% before the unlock: taken for the unlock in a clean frame, passed over
        // when the lead shows noise reaching 4%.
        let mut env = env_of(&[(60.0, 0.05), (100.0, 0.5), (420.0, 1.0)], 1000, 5.0);
        let clean = find(&env, 0, 1000, (200.0, 600.0), 10.0, 50).unwrap();
        assert!((clean.unlock - 60.0).abs() < 1.0, "unlock {}", clean.unlock);
        env[20] += 0.04;
        let noisy = find(&env, 0, 1000, (200.0, 600.0), 10.0, 50).unwrap();
        assert!((noisy.unlock - 100.0).abs() < 1.0, "unlock {}", noisy.unlock);
    }
}
