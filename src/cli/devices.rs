//! `tickproof devices [--json]`: the audio inputs and the rates they support.
use super::{ExitCode, Failure};

/// Raw arguments of `devices`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// One JSON object: `{"devices": [...]}`.
    #[arg(long)]
    pub json: bool,
}

/// Runs `devices`.
#[cfg(feature = "capture")]
pub fn run(args: Args) -> Result<ExitCode, Failure> {
    let list =
        crate::live::capture::list_inputs().map_err(|e| Failure::new(ExitCode::Device, e.to_string()))?;
    if args.json {
        let v = serde_json::json!({ "devices": list });
        crate::outln!("{}", super::schema::tag(super::schema::DEVICES, v));
        return Ok(ExitCode::Ok);
    }
    if list.is_empty() {
        crate::outln!("no audio input devices found (no microphone or sound card is visible to this system)");
        return Ok(ExitCode::Ok);
    }
    for d in &list {
        crate::outln!("{:>3}  {}{}", d.id, d.name, if d.is_default { "  (default)" } else { "" });
        if let Some(e) = &d.error {
            crate::outln!("       cannot ask what it supports: {e}");
        } else if d.configs.is_empty() {
            crate::outln!("       no supported input configuration");
        }
        for c in &d.configs {
            let rate = if c.min_rate_hz == c.max_rate_hz {
                format!("{} Hz", c.min_rate_hz)
            } else {
                format!("{}..{} Hz", c.min_rate_hz, c.max_rate_hz)
            };
            crate::outln!("       {} ch  {rate}  {}", c.channels, c.format);
        }
    }
    Ok(ExitCode::Ok)
}

/// Runs `devices` (this build has no capture support).
#[cfg(not(feature = "capture"))]
pub fn run(_args: Args) -> Result<ExitCode, Failure> {
    Err(Failure::new(
        ExitCode::Device,
        "this build has no audio capture (built without the `capture` feature); use `listen --replay FILE`",
    ))
}
