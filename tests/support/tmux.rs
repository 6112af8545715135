//! Driving the terminal view in a detached tmux session: start a command at a size, read the
//! screen, send keys, wait for text (bounded: a screen that never shows it is returned as it
//! is, for the assertion to report).
use std::process::Command;
use std::time::{Duration, Instant};

/// True when tmux can be run (the tests skip, saying so, when it cannot).
pub fn have_tmux() -> bool {
    Command::new("tmux").arg("-V").output().is_ok_and(|o| o.status.success())
}

/// A tmux session, killed when dropped.
pub struct Tmux {
    /// The session's name.
    pub name: String,
}

impl Tmux {
    /// Starts `cmd` (a shell command line) in a new session of `w` x `h` cells.
    pub fn start(tag: &str, w: u16, h: u16, cmd: &str) -> Tmux {
        let name = format!("tickproof-{tag}-{}", std::process::id());
        let (w, h) = (w.to_string(), h.to_string());
        run(&["new-session", "-d", "-s", &name, "-x", &w, "-y", &h, cmd]);
        Tmux { name }
    }

    /// The screen now.
    pub fn screen(&self) -> String {
        run(&["capture-pane", "-p", "-t", &self.name])
    }

    /// Sends keys (tmux key names: "Space", "q").
    pub fn keys(&self, k: &str) {
        run(&["send-keys", "-t", &self.name, k]);
    }

    /// Waits up to 90 s for the screen to satisfy `what`; returns the last screen.
    pub fn wait_for(&self, what: &dyn Fn(&str) -> bool) -> String {
        let t0 = Instant::now();
        loop {
            let s = self.screen();
            if what(&s) || t0.elapsed() > Duration::from_secs(90) {
                return s;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        run(&["kill-session", "-t", &self.name]);
    }
}

fn run(args: &[&str]) -> String {
    let o = Command::new("tmux").args(args).output().unwrap();
    String::from_utf8_lossy(&o.stdout).into_owned()
}
