//! Connecting to a registry: the URL, and the password from where libpq would look for it
//! (`PGPASSWORD`, then the pgpass file), never from the command line.
use postgres::config::Host;
use postgres::{Client, Config, NoTls};
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use crate::store::StoreError;

/// Whether `s` names a PostgreSQL registry rather than a folder.
pub fn is_registry_url(s: &str) -> bool {
    s.starts_with("postgres://") || s.starts_with("postgresql://")
}

/// Connects to the registry at `url` (which must not hold a password).
pub(crate) fn connect(url: &str) -> Result<Client, StoreError> {
    let bad = |problem: String| StoreError::BadLocation { given: shown(url), problem };
    let mut config = Config::from_str(url).map_err(|e| bad(format!("not a PostgreSQL URL: {e}")))?;
    if config.get_password().is_some() {
        return Err(bad(
            "a registry URL must not contain a password (it would show in the process list and the \
             shell history): set PGPASSWORD or use a pgpass file"
                .into(),
        ));
    }
    if config.get_user().is_none() {
        let user = std::env::var("PGUSER").or_else(|_| std::env::var("USER")).unwrap_or_default();
        if user.is_empty() {
            return Err(bad("no user: name one in the URL (postgres://USER@HOST/DB) or set PGUSER".into()));
        }
        config.user(&user);
    }
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(Duration::from_secs(10));
    }
    if let Some(pw) = password_for(&config) {
        config.password(pw);
    }
    config.connect(NoTls).map_err(|e| StoreError::Postgres { location: shown(url), message: message(&e) })
}

/// The URL as messages show it (it never holds a password: such a URL is refused first).
pub(crate) fn shown(url: &str) -> String {
    let url = match url.find('?') {
        Some(q) if url[q..].contains("password") => &url[..q],
        _ => url,
    };
    match url.find('@') {
        Some(at) if url[..at].contains(':') && url[..at].matches(':').count() > 1 => {
            let scheme_end = url.find("://").map_or(0, |i| i + 3);
            let user_end = url[scheme_end..at].find(':').map_or(at, |i| scheme_end + i);
            format!("{}:***{}", &url[..user_end], &url[at..])
        }
        _ => url.chars().take(200).collect(),
    }
}

/// One line for a client or server error: the server's own message when there is one.
pub(crate) fn message(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => match db.detail() {
            Some(d) => format!("{} ({d})", db.message()),
            None => db.message().to_string(),
        },
        None => e.to_string(),
    }
}

fn password_for(config: &Config) -> Option<String> {
    if let Ok(pw) = std::env::var("PGPASSWORD") {
        return Some(pw);
    }
    let file = std::env::var_os("PGPASSFILE")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".pgpass")))?;
    let text = read_private(&file)?;
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(h)) => h.clone(),
        _ => "localhost".to_string(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432).to_string();
    let user = config.get_user().unwrap_or_default();
    let db = config.get_dbname().unwrap_or(user);
    pgpass_lookup(&text, [&host, &port, db, user])
}

/// The pgpass file's text, ignored (as libpq does) unless only its owner can read it.
fn read_private(path: &std::path::Path) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(path).ok()?;
    if meta.permissions().mode() & 0o077 != 0 || meta.len() > 1 << 20 {
        return None;
    }
    std::fs::read_to_string(path).ok()
}

/// The password of the first `host:port:database:user:password` line matching `want` (`*`
/// matches anything; `\:` and `\\` are escapes).
pub(crate) fn pgpass_lookup(text: &str, want: [&str; 4]) -> Option<String> {
    for line in text.lines() {
        if line.trim_start().starts_with('#') {
            continue;
        }
        let fields = split_pgpass(line);
        if fields.len() == 5 && fields[..4].iter().zip(want).all(|(f, w)| f == "*" || f == w) {
            return Some(fields[4].clone());
        }
    }
    None
}

fn split_pgpass(line: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.last_mut().expect("never empty").extend(chars.next()),
            ':' if out.len() < 5 => out.push(String::new()),
            c => out.last_mut().expect("never empty").push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pgpass_lines_match_with_wildcards_and_escapes() {
        let text = "# comment\nother:5432:*:bob:no\n127.0.0.1:*:claims:alice:s\\:cret\n*:*:*:*:fallback\n";
        assert_eq!(pgpass_lookup(text, ["127.0.0.1", "5433", "claims", "alice"]).as_deref(), Some("s:cret"));
        assert_eq!(pgpass_lookup(text, ["h", "1", "d", "u"]).as_deref(), Some("fallback"));
        assert_eq!(pgpass_lookup("a:b:c:d:e\n", ["a", "b", "c", "x"]), None);
    }

    #[test]
    fn a_url_with_a_password_is_refused_and_never_echoed() {
        let e = connect("postgres://alice:hunter2@127.0.0.1:1/claims").err().expect("refused");
        let m = e.to_string();
        assert!(matches!(e, StoreError::BadLocation { .. }), "{m}");
        assert!(m.contains("must not contain a password") && !m.contains("hunter2"), "{m}");
        let m = connect("postgres://alice@127.0.0.1:1/claims?password=hunter2")
            .err()
            .expect("refused")
            .to_string();
        assert!(m.contains("must not contain a password") && !m.contains("hunter2"), "{m}");
        assert!(is_registry_url("postgresql://x/y") && !is_registry_url("/tmp/postgres://"));
    }
}
