//! `tickproof claim new|measure|show|list|export|verify`: warranty claims and their evidence.
use super::{ExitCode, Failure};
use crate::claim::{self, ClaimError, MeasureRequest, Pipeline, SeamError};
use crate::record::time::Date;
use crate::record::{Claim, ClaimId, Movement, SealedRecord, ServiceKey};
use crate::store::{ClaimStore, Draft, ListFilter, PgStore, Store, StoreError, StoreOptions};
use std::path::{Path, PathBuf};

mod measure;
mod show;
mod verify;
use measure::{letterhead, measure_live, measure_recorder, LiveMeasure};

/// Raw arguments of `claim`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// What to do.
    #[command(subcommand)]
    pub command: Sub,
}

/// Signing options of commands that write a record.
#[derive(Debug, Clone, clap::Args)]
pub struct SignArgs {
    /// Sign with this key file (default: the per-user key, when it exists).
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,
    /// Do not sign, even when a key exists.
    #[arg(long, conflicts_with = "key")]
    pub unsigned: bool,
}

/// `claim` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Sub {
    /// Open a claim.
    New {
        /// Brand.
        #[arg(long)]
        brand: String,
        /// Model or reference.
        #[arg(long)]
        model: String,
        /// Serial number.
        #[arg(long)]
        serial: String,
        /// Movement kind.
        #[arg(long, value_enum)]
        movement: MovementArg,
        /// Lift angle, degrees (mechanical); wins over `--calibre`.
        #[arg(long, value_name = "DEG")]
        lift_angle: Option<f64>,
        /// The movement's calibre (e.g. "ETA 2824-2"): its lift angle from the built-in table,
        /// recorded with its source.
        #[arg(long, value_name = "NAME")]
        calibre: Option<String>,
        /// Warranty policy to apply (default: the shop's, `tickproof shop set --default-policy`).
        #[arg(long, value_name = "NAME|FILE")]
        policy: Option<String>,
        /// The customer's complaint, in their words.
        #[arg(long, value_name = "TEXT")]
        complaint: Option<String>,
        /// Technician taking the claim (default: the shop's).
        #[arg(long, value_name = "NAME")]
        technician: Option<String>,
        /// Purchase date.
        #[arg(long, value_name = "YYYY-MM-DD")]
        purchase_date: Option<String>,
        /// Print one JSON object (with `id`).
        #[arg(long)]
        json: bool,
        /// Signing.
        #[command(flatten)]
        sign: SignArgs,
    },
    /// Measure a claim from recordings, one per position (or live, following the policy's
    /// protocol), and judge it.
    Measure {
        /// Claim id.
        id: String,
        /// Recordings (WAV or FLAC), one per position.
        #[arg(long = "from", value_name = "FILE", num_args = 1.., required_unless_present = "live")]
        from: Vec<PathBuf>,
        /// Measure live: run the policy's protocol (each position settled, then recorded), then
        /// measure those recordings exactly as `--from` would.
        #[arg(long, conflicts_with_all = ["from", "positions"])]
        live: bool,
        /// Input device: for `--live` the one recorded from (default: the shop's default device,
        /// else the default input), and in every case the device whose calibration profile is
        /// applied (`tickproof calibrate`).
        #[arg(long, value_name = "NAME|ID", conflicts_with = "replay")]
        device: Option<String>,
        /// The recorder's clock error, ppm (+ = fast), instead of a profile.
        #[arg(long, value_name = "P", allow_negative_numbers = true)]
        recorder_ppm: Option<f64>,
        /// 95% uncertainty of `--recorder-ppm`, ppm.
        #[arg(long, value_name = "U")]
        recorder_ppm_u95: Option<f64>,
        /// Feed a recording through the live path instead of a device (`--live`).
        #[arg(long, value_name = "FILE", requires = "live")]
        replay: Option<PathBuf>,
        /// Replay speed, times real time (0 = as fast as the analysis goes).
        #[arg(long, requires = "replay")]
        speed: Option<f64>,
        /// Test aid for `--replay`: a synthetic host clock that ticks as if the recorder ran P
        /// ppm fast and says it is synchronised (a replay never uses the real clock).
        #[arg(long, value_name = "P", requires = "replay", allow_negative_numbers = true)]
        replay_host_clock_ppm: Option<f64>,
        /// With --replay-host-clock-ppm: the synthetic clock says it is not synchronised.
        #[arg(long, requires = "replay_host_clock_ppm")]
        replay_host_clock_unsynchronised: bool,
        /// Settling time per position, seconds (`--live`; default: the policy's).
        #[arg(long, value_name = "S", requires = "live", allow_negative_numbers = true)]
        settle_s: Option<f64>,
        /// Measuring time per position, seconds (`--live`; default: the policy's).
        #[arg(long, value_name = "S", requires = "live", allow_negative_numbers = true)]
        seconds_per_position: Option<f64>,
        /// Positions of the recordings, in order (DU,DD,CD,CL,CU,CR); unstated: P1,P2,...
        #[arg(long, value_name = "DU,DD,...", value_delimiter = ',')]
        positions: Vec<String>,
        /// Policy (default: the claim's).
        #[arg(long, value_name = "NAME")]
        policy: Option<String>,
        /// Technician measuring.
        #[arg(long, value_name = "NAME")]
        technician: Option<String>,
        /// Print the new revision as JSON.
        #[arg(long)]
        json: bool,
        /// Signing.
        #[command(flatten)]
        sign: SignArgs,
    },
    /// Show a claim (latest revision, or `--revision N`).
    Show {
        /// Claim id.
        id: String,
        /// Revision to show.
        #[arg(long)]
        revision: Option<u32>,
        /// Print the sealed record as JSON.
        #[arg(long)]
        json: bool,
    },
    /// List claims, newest first.
    List {
        /// Claims opened on or after this date.
        #[arg(long, value_name = "YYYY-MM-DD")]
        since: Option<String>,
        /// Latest verdict (defect, within_spec, inconclusive, ...).
        #[arg(long)]
        verdict: Option<String>,
        /// Model (case-insensitive).
        #[arg(long)]
        model: Option<String>,
        /// One JSON object (schema/claim.v1.json): `{"schema": ..., "claims": [...]}`.
        #[arg(long)]
        json: bool,
    },
    /// Export a claim: a folder, or a tar archive when OUT ends in .tar.
    Export {
        /// Claim id.
        id: String,
        /// Destination folder or FILE.tar (must not exist).
        #[arg(long, value_name = "DIR|FILE.tar")]
        out: PathBuf,
    },
    /// Print the head receipt issued with a revision (default: the latest), as JSON.
    Receipt {
        /// Claim id.
        id: String,
        /// Revision.
        #[arg(long)]
        revision: Option<u32>,
    },
    /// Verify a claim in the store, or an export: hashes, chain, signatures, re-analysis.
    Verify {
        /// Claim id, or an export folder or .tar.
        target: String,
        /// Require every revision signed by this public key (hex, or a .pub file).
        #[arg(long, value_name = "HEX|FILE")]
        trusted_key: Option<String>,
        /// Prove that the store (or export) still holds everything up to this head receipt: a
        /// receipt file (`claim receipt`), or its hash as the customer's report names it.
        #[arg(long, value_name = "FILE|HASH")]
        receipt: Option<String>,
        /// Print the outcome as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Movement kind on the command line.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum MovementArg {
    /// Balance wheel.
    Mechanical,
    /// Quartz.
    Quartz,
}

/// Where `claim` keeps its records: `--store` (a folder, or a `postgres://` registry URL) and
/// the branch this machine is at.
#[derive(Debug, Clone, Default)]
pub struct StoreChoice {
    /// `--store`: a folder or a registry URL (default: the per-user store).
    pub store: Option<PathBuf>,
    /// `--branch` or `TICKPROOF_BRANCH`, validated.
    pub branch: Option<String>,
}

/// Opens the store `choice` names: a registry for a `postgres://` URL, else a folder.
pub fn open_store(choice: &StoreChoice) -> Result<Box<dyn ClaimStore>, Failure> {
    open_store_for(choice, false)
}

/// The options a store is opened with: the branch, the keys the shop trusts, and whether
/// only to read (a SQLite store then opens read-only: nothing written, a full disk no matter).
fn store_options(choice: &StoreChoice, read_only: bool) -> Result<StoreOptions, Failure> {
    let shop = super::shop::current()?;
    Ok(StoreOptions {
        branch: choice.branch.clone(),
        anchors: crate::store::TrustAnchors::shop(&shop.trusted_keys),
        read_only,
        ..StoreOptions::default()
    })
}

/// [`open_store`], read-only when `read_only` (the commands that only read).
pub fn open_store_for(choice: &StoreChoice, read_only: bool) -> Result<Box<dyn ClaimStore>, Failure> {
    let opts = store_options(choice, read_only)?;
    if let Some(url) =
        choice.store.as_deref().and_then(Path::to_str).filter(|s| crate::store::postgres::is_registry_url(s))
    {
        return Ok(Box::new(PgStore::open(url, opts).map_err(store_failure)?));
    }
    Ok(Box::new(open_local_with(choice, opts)?))
}

/// Opens the folder store `choice` names (`--store DIR`, or the per-user store).
pub fn open_local(choice: &StoreChoice) -> Result<Store, Failure> {
    open_local_with(choice, store_options(choice, false)?)
}

fn open_local_with(choice: &StoreChoice, opts: StoreOptions) -> Result<Store, Failure> {
    let dir = choice
        .store
        .clone()
        .or_else(Store::default_dir)
        .ok_or_else(|| Failure::usage("no per-user data directory here: give --store DIR"))?;
    Store::open_with(&dir, opts).map_err(store_failure)
}

/// Maps a store error to a failure with its exit code.
pub fn store_failure(e: StoreError) -> Failure {
    let code = match &e {
        StoreError::Invalid(_)
        | StoreError::NotFound { .. }
        | StoreError::TooLarge { .. }
        | StoreError::BadLocation { .. }
        | StoreError::KeyRefused { .. } => ExitCode::Usage,
        _ => ExitCode::Storage,
    };
    Failure::new(code, e.to_string())
}

fn claim_failure(e: ClaimError) -> Failure {
    match e {
        ClaimError::Store(s) => store_failure(s),
        ClaimError::Record(r) => Failure::usage(r.to_string()),
        ClaimError::Seam(s) => {
            let code = match s {
                SeamError::NotConnected { .. } => ExitCode::Internal,
                SeamError::NoSignal { .. } => ExitCode::NoSignal,
                _ => ExitCode::Usage,
            };
            Failure::new(code, s.to_string())
        }
        other => Failure::new(ExitCode::Internal, other.to_string()),
    }
}

fn parse_id(s: &str) -> Result<ClaimId, Failure> {
    ClaimId::parse(s).map_err(|e| Failure::usage(e.to_string()))
}

fn signing_key(sign: &SignArgs) -> Result<Option<ServiceKey>, Failure> {
    if sign.unsigned {
        return Ok(None);
    }
    let path = match &sign.key {
        Some(p) => p.clone(),
        None => match crate::record::sign::default_key_path() {
            Some(p) if p.exists() => p,
            _ => return Ok(None),
        },
    };
    ServiceKey::load(&path).map(Some).map_err(super::key::key_failure)
}

/// The receipt the store issued with `r`, just written.
fn receipt_of(s: &dyn ClaimStore, r: &SealedRecord) -> Result<crate::record::Receipt, Failure> {
    s.receipt_for(&r.record.claim_id, r.record.revision).map_err(store_failure)?.ok_or_else(|| {
        Failure::new(ExitCode::Internal, format!("claim {}: the store issued no receipt", r.record.claim_id))
    })
}

/// The line that hands the receipt out: its hash, what it anchors, how to get the file.
fn receipt_line(r: &crate::record::Receipt) -> String {
    format!(
        "receipt {} ({}, record {}): keep it; `tickproof claim receipt {} --revision {}` prints the file",
        r.sha256(),
        if r.signature.is_some() { "signed" } else { "unsigned" },
        r.body.head_seq,
        r.body.claim_id,
        r.body.revision
    )
}

fn summary_line(r: &SealedRecord) -> String {
    let c = &r.record.claim;
    format!(
        "claim {} revision {}: {} {} serial {} ({}){}",
        r.record.claim_id,
        r.record.revision,
        c.brand,
        c.model,
        c.serial,
        c.movement.as_str(),
        r.record.verdict.as_ref().map(|v| format!(", verdict {}", v.verdict)).unwrap_or_default()
    )
}

/// Runs `claim`.
pub fn run(args: Args, store: StoreChoice) -> Result<ExitCode, Failure> {
    match args.command {
        Sub::New {
            brand,
            model,
            serial,
            movement,
            lift_angle,
            calibre,
            policy,
            complaint,
            technician,
            purchase_date,
            json,
            sign,
        } => {
            // The shop's defaults fill what was not given; the policy is checked now, not at
            // `claim measure`.
            let shop = super::shop::current()?;
            let policy = policy.or(shop.default_policy).ok_or_else(|| {
                Failure::usage(format!(
                    "no policy: give --policy NAME|FILE or set the shop's default (`tickproof shop set \
                     --default-policy NAME`); built-in: {}",
                    crate::verdict::builtin_names().join(", ")
                ))
            })?;
            crate::verdict::Policy::load(&policy).map_err(|e| Failure::usage(format!("--policy {e}")))?;
            let technician = technician.or(shop.technician);
            // The lift angle and where it came from, recorded in the opening revision's note.
            let lift = match (lift_angle, calibre.as_deref()) {
                (None, None) => None,
                (l, c) => Some(super::analyze::lift_of(l, c)?),
            };
            let lift_angle = lift.as_ref().map(|l| l.lift_angle_deg);
            let claim = Claim {
                brand,
                model,
                serial,
                movement: match movement {
                    MovementArg::Mechanical => Movement::Mechanical,
                    MovementArg::Quartz => Movement::Quartz,
                },
                lift_angle_deg: lift_angle,
                purchase_date,
                complaint,
                technician,
                policy: Some(policy),
            };
            claim.validate().map_err(|e| Failure::usage(e.to_string()))?;
            let key = signing_key(&sign)?;
            let mut s = open_store(&store)?;
            let mut draft = Draft::open(claim);
            if let Some(l) = &lift {
                draft.change = format!("opened; lift angle {} degrees, {}", l.lift_angle_deg, l.source);
            }
            let r = s.append_draft(draft, key.as_ref()).map_err(store_failure)?;
            let receipt = receipt_of(&*s, &r)?;
            if json {
                let v = serde_json::json!({
                    "id": r.record.claim_id, "revision": r.record.revision, "sha256": r.sha256,
                    "signed": r.signature.is_some(), "created_utc": r.record.created_utc, "claim": r.record.claim,
                    "change": r.record.change, "receipt": receipt, "receipt_sha256": receipt.sha256(),
                });
                crate::outln!("{}", super::schema::tag(super::schema::CLAIM, v));
            } else {
                crate::outln!("opened {}", summary_line(&r));
                crate::outln!("{}", receipt_line(&receipt));
            }
            Ok(ExitCode::Ok)
        }
        Sub::Measure {
            id,
            from,
            live,
            device,
            recorder_ppm,
            recorder_ppm_u95,
            replay,
            speed,
            replay_host_clock_ppm,
            replay_host_clock_unsynchronised,
            settle_s,
            seconds_per_position,
            positions,
            policy,
            technician,
            json,
            sign,
        } => {
            let id = parse_id(&id)?;
            // Read before any recording is made: a bad shop file stops the claim at once.
            let head = letterhead()?;
            let device = match device {
                None if live && replay.is_none() => super::shop::current()?.default_device,
                d => d,
            };
            let recorder = measure_recorder(device.as_deref(), recorder_ppm, recorder_ppm_u95, live)?;
            if live {
                let key = signing_key(&sign)?;
                let mut s = open_store(&store)?;
                let mut listen = super::listen::Args::new(device, replay, speed);
                listen.settle_s = settle_s;
                listen.seconds_per_position = seconds_per_position;
                listen.replay_host_clock_ppm = replay_host_clock_ppm;
                listen.replay_host_clock_unsynchronised = replay_host_clock_unsynchronised;
                // The terminal view when standard output is a terminal (the steps as lines
                // on standard error otherwise).
                listen.no_tui = false;
                let explicit = recorder_ppm.is_some() || recorder_ppm_u95.is_some();
                let live =
                    LiveMeasure { id, policy, technician, key, listen, recorder, explicit, letterhead: head };
                let r = measure_live(&mut *s, live)?;
                let receipt = receipt_of(&*s, &r)?;
                if json {
                    crate::outln!("{}", r.to_json_pretty());
                } else {
                    crate::outln!("measured {}", summary_line(&r));
                    crate::outln!("{}", receipt_line(&receipt));
                }
                return Ok(ExitCode::Ok);
            }
            let positions = if positions.is_empty() {
                (1..=from.len()).map(|i| format!("P{i}")).collect()
            } else {
                positions
            };
            if positions.len() != from.len() {
                return Err(Failure::usage(format!(
                    "{} positions for {} recordings: give one position per file",
                    positions.len(),
                    from.len()
                )));
            }
            for f in &from {
                if !f.is_file() {
                    return Err(Failure::usage(format!("{}: not a readable file", f.display())));
                }
            }
            let key = signing_key(&sign)?;
            let mut s = open_store(&store)?;
            let req = MeasureRequest {
                id,
                recordings: positions.into_iter().zip(from).collect(),
                policy,
                technician,
                recorder,
                recorder_reason: None,
                letterhead: Some(head),
            };
            let r = claim::measure_claim(&mut *s, &Pipeline, &req, key.as_ref()).map_err(claim_failure)?;
            let receipt = receipt_of(&*s, &r)?;
            if json {
                crate::outln!("{}", r.to_json_pretty());
            } else {
                crate::outln!("measured {}", summary_line(&r));
                crate::outln!("{}", receipt_line(&receipt));
            }
            Ok(ExitCode::Ok)
        }
        Sub::Show { id, revision, json } => {
            let id = parse_id(&id)?;
            let s = open_store_for(&store, true)?;
            let r = s.get_record(&id, revision).map_err(store_failure)?;
            if json {
                crate::outln!("{}", r.to_json_pretty());
            } else {
                show::print_record(&r);
            }
            Ok(ExitCode::Ok)
        }
        Sub::List { since, verdict, model, json } => {
            let filtered = verdict.is_some() || model.is_some();
            let since = match since {
                Some(d) => Some(
                    Date::parse(&d)
                        .ok_or_else(|| Failure::usage(format!("--since {d}: not a date YYYY-MM-DD")))?,
                ),
                None => None,
            };
            let names = crate::verdict::Outcome::ALL.map(|o| o.name());
            if let Some(v) = verdict.as_deref().filter(|v| !names.contains(v)) {
                return Err(Failure::usage(format!(
                    "--verdict {v}: not a verdict (one of {})",
                    names.join(", ")
                )));
            }
            let s = open_store_for(&store, true)?;
            let rows = s.list_claims(&ListFilter { since, verdict, model }).map_err(store_failure)?;
            if json {
                let claims = serde_json::to_value(&rows).map_err(|e| {
                    Failure::new(ExitCode::Internal, format!("claim list: cannot write JSON: {e}"))
                })?;
                let v = serde_json::json!({ "claims": claims });
                crate::outln!("{}", super::schema::tag(super::schema::CLAIM, v));
            } else if rows.is_empty() {
                crate::outln!("no claims{}", if since.is_some() || filtered { " match" } else { "" });
            } else {
                for r in &rows {
                    crate::outln!(
                        "{}  r{}  {}  {} {} serial {}  {}",
                        r.id,
                        r.revision,
                        r.opened_utc,
                        r.brand,
                        r.model,
                        r.serial,
                        r.verdict.as_deref().unwrap_or("not judged")
                    );
                }
            }
            Ok(ExitCode::Ok)
        }
        Sub::Export { id, out } => {
            let id = parse_id(&id)?;
            let s = open_store_for(&store, true)?;
            let written = crate::store::export::export_claim(&*s, &id, &out).map_err(store_failure)?;
            crate::outln!("exported claim {id} to {}", written.display());
            Ok(ExitCode::Ok)
        }
        Sub::Verify { target, trusted_key, receipt, json } => {
            verify::run_verify(&target, trusted_key.as_deref(), receipt.as_deref(), json, &store)
        }
        Sub::Receipt { id, revision } => {
            let id = parse_id(&id)?;
            let s = open_store_for(&store, true)?;
            let revision = match revision {
                Some(r) => r,
                None => s.get_record(&id, None).map_err(store_failure)?.record.revision,
            };
            let r = s.receipt_for(&id, revision).map_err(store_failure)?.ok_or_else(|| {
                Failure::usage(format!("claim {id} revision {revision}: the store issued no receipt for it"))
            })?;
            crate::outln!("{}", r.to_json());
            Ok(ExitCode::Ok)
        }
    }
}
