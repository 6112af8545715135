//! The interactive frontend: the [`view`](super::view) in a real terminal (crossterm backend,
//! raw mode, alternate screen), keys turned into [`Command`]s. The terminal is restored on
//! every way out, including a panic unwinding through [`Tui`].
use super::run::{Command, Frontend, Status};
use super::session::{LiveSession, Reading};
use super::view::{render, ViewData};
use super::LiveError;
use crate::measurement::STANDARD_BPH;
use ratatui::backend::{Backend, CrosstermBackend};
use ratatui::crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};
use ratatui::crossterm::{execute, terminal};
use ratatui::Terminal;
use std::io::Stdout;
use std::time::{Duration, Instant};

/// Redraws at most this often.
pub const REDRAW_EVERY: Duration = Duration::from_millis(100);

/// Turns a key into a command (or a view-only action) given the current settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum KeyAction {
    /// A command for the loop.
    Command(Command),
    /// Freeze or unfreeze the display.
    TogglePause,
    /// The paper strip one step taller (`true`) or shorter on [`super::view::STRIP_SCALES_MS`].
    Strip(bool),
    /// Nothing.
    None,
}

/// What each key does, given what is shown (`d.lift_angle_deg`, `d.bph_choice`).
pub fn key_action(code: KeyCode, mods: KeyModifiers, d: &ViewData) -> KeyAction {
    let cmd = KeyAction::Command;
    match code {
        KeyCode::Char('q') | KeyCode::Esc => cmd(Command::Quit),
        KeyCode::Char('c') if mods.contains(KeyModifiers::CONTROL) => cmd(Command::Quit),
        KeyCode::Char('l') | KeyCode::Down => cmd(Command::SetLiftAngle((d.lift_angle_deg - 1.0).max(10.0))),
        KeyCode::Char('L') | KeyCode::Up => cmd(Command::SetLiftAngle((d.lift_angle_deg + 1.0).min(90.0))),
        KeyCode::Char('b') | KeyCode::Right => cmd(Command::SetBph(next_bph(d.bph_choice))),
        KeyCode::Char('B') | KeyCode::Left => cmd(Command::SetBph(prev_bph(d.bph_choice))),
        KeyCode::Char('a') => cmd(Command::SetBph(None)),
        KeyCode::Char('+') | KeyCode::Char('=') => KeyAction::Strip(true),
        KeyCode::Char('-') => KeyAction::Strip(false),
        KeyCode::Char('p') => KeyAction::TogglePause,
        KeyCode::Char('m') => cmd(Command::Mark),
        KeyCode::Char('s') => cmd(Command::Snapshot),
        KeyCode::Char(' ') | KeyCode::Enter => cmd(Command::Proceed),
        KeyCode::Char('r') => cmd(Command::Remeasure),
        _ => KeyAction::None,
    }
}

/// The forced beat rate after `b`: automatic, then each standard rate upwards, then
/// automatic again.
pub fn next_bph(current: Option<u32>) -> Option<u32> {
    match current {
        None => Some(STANDARD_BPH[0]),
        Some(b) => STANDARD_BPH.iter().copied().find(|&s| s > b),
    }
}

/// The forced beat rate after `B`: the cycle of [`next_bph`] the other way.
pub fn prev_bph(current: Option<u32>) -> Option<u32> {
    match current {
        None => STANDARD_BPH.last().copied(),
        Some(b) => STANDARD_BPH.iter().rev().copied().find(|&s| s < b),
    }
}

/// Draws [`ViewData`] on any ratatui backend and handles keys: the real terminal uses
/// crossterm; tests use `TestBackend`.
pub struct ViewFrontend<B: Backend> {
    /// The terminal drawn on.
    pub terminal: Terminal<B>,
    /// What is shown.
    pub data: ViewData,
    last_draw: Option<Instant>,
    /// Read keys from the real terminal (false for a test backend).
    read_keys: bool,
    /// Frames drawn.
    pub frames: u64,
}

impl<B: Backend> ViewFrontend<B> {
    /// A frontend on `terminal`; `read_keys` polls crossterm for key presses.
    pub fn new(terminal: Terminal<B>, data: ViewData, read_keys: bool) -> Self {
        ViewFrontend { terminal, data, last_draw: None, read_keys, frames: 0 }
    }

    /// Applies a key; returns the command for the loop, if any.
    pub fn key(&mut self, code: KeyCode, mods: KeyModifiers) -> Option<Command> {
        match key_action(code, mods, &self.data) {
            KeyAction::Command(c) => {
                if let Command::SetBph(b) = c {
                    self.data.bph_choice = b;
                }
                Some(c)
            }
            KeyAction::TogglePause => {
                self.data.paused = !self.data.paused;
                None
            }
            KeyAction::Strip(up) => {
                self.data.step_strip(up);
                None
            }
            KeyAction::None => None,
        }
    }

    /// Draws now.
    pub fn draw(&mut self) -> Result<(), LiveError> {
        let d = &self.data;
        self.terminal.draw(|f| render(f, d)).map_err(|e| LiveError::Terminal(e.to_string()))?;
        self.frames += 1;
        self.last_draw = Some(Instant::now());
        Ok(())
    }

    fn refresh(&mut self, session: &LiveSession, status: &Status) {
        self.data.overrun_samples = status.overrun_samples;
        self.data.position = status.position.map(str::to_string);
        // The guided protocol changes recording at every position.
        self.data.recording = status.recording.map(|p| p.display().to_string());
        self.data.lift_angle_deg = session.config().analysis.lift_angle_deg;
        self.data.forced_bph = session.config().analysis.bph;
        self.data.elapsed_s = session.elapsed_s();
        if !self.data.paused {
            self.data.level = status.level;
            self.data.update_from(session);
        }
    }
}

impl<B: Backend> Frontend for ViewFrontend<B> {
    fn reading(&mut self, r: &Reading, session: &LiveSession, status: &Status) -> Result<(), LiveError> {
        if let Some(rs) = &r.restarted {
            self.data.notice = Some(format!("restarted: {}", rs.message));
        }
        self.refresh(session, status);
        if !self.data.paused {
            self.data.reading = Some(r.clone());
        }
        Ok(())
    }

    fn poll(&mut self, session: &LiveSession, status: &Status) -> Result<Option<Command>, LiveError> {
        if self.read_keys {
            while event::poll(Duration::ZERO).map_err(|e| LiveError::Terminal(e.to_string()))? {
                match event::read().map_err(|e| LiveError::Terminal(e.to_string()))? {
                    Event::Key(k) if k.kind != KeyEventKind::Release => {
                        let cmd = self.key(k.code, k.modifiers);
                        self.refresh(session, status);
                        self.draw()?;
                        if cmd.is_some() {
                            return Ok(cmd);
                        }
                    }
                    Event::Resize(..) => self.draw()?,
                    _ => {}
                }
            }
        }
        if self.last_draw.is_none_or(|t| t.elapsed() >= REDRAW_EVERY) {
            self.refresh(session, status);
            self.draw()?;
        }
        Ok(None)
    }

    fn notice(&mut self, text: &str) {
        self.data.notice = Some(text.to_string());
    }

    fn step(&mut self, step: &super::protocol::Step) {
        self.data.apply_step(step);
    }
}

/// The real terminal: raw mode and the alternate screen while it lives.
pub type Tui = ViewFrontend<CrosstermBackend<Stdout>>;

/// Guard that puts the terminal back as it was.
pub struct TerminalGuard;

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        let _ = terminal::disable_raw_mode();
        let _ = execute!(std::io::stdout(), terminal::LeaveAlternateScreen, ratatui::crossterm::cursor::Show);
    }
}

/// Enters raw mode and the alternate screen; the guard restores them when dropped.
pub fn open_terminal(data: ViewData) -> Result<(Tui, TerminalGuard), LiveError> {
    let err = |e: std::io::Error| LiveError::Terminal(e.to_string());
    terminal::enable_raw_mode().map_err(err)?;
    let guard = TerminalGuard;
    execute!(std::io::stdout(), terminal::EnterAlternateScreen).map_err(err)?;
    let mut t = Terminal::new(CrosstermBackend::new(std::io::stdout())).map_err(err)?;
    t.clear().map_err(err)?;
    Ok((ViewFrontend::new(t, data, true), guard))
}
