//! A throwaway PostgreSQL server for the registry tests and bench: Debian's `postgresql`
//! package (`/usr/lib/postgresql/*/bin`), `initdb` in a temporary folder, listening on a free
//! 127.0.0.1 port with password (SCRAM) authentication, run as `nobody` when the tests run as
//! root (the server refuses root). Stopped, and its folder removed, on drop.
#![allow(dead_code)]
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The one password of every test role (the tests set `PGPASSWORD` to it).
pub const PASSWORD: &str = "tickproof-test-password";

/// A running server.
pub struct PgServer {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
    child: Option<Child>,
    uid: Option<(u32, u32)>,
}

fn pg_bin() -> PathBuf {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL is not installed: `make test` installs Debian's postgresql package")
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|b| b.join("initdb").is_file() && b.join("postgres").is_file())
        .collect();
    found.sort();
    found.pop().expect("no initdb under /usr/lib/postgresql/*/bin")
}

/// `nobody`'s uid and gid when running as root (the server refuses to run as root).
fn unprivileged() -> Option<(u32, u32)> {
    // SAFETY: getuid has no preconditions; getpwnam returns a pointer into static storage, read
    // at once and not kept.
    unsafe {
        if libc::getuid() != 0 {
            return None;
        }
        let pw = libc::getpwnam(c"nobody".as_ptr());
        assert!(!pw.is_null(), "running as root and there is no user `nobody` to run PostgreSQL as");
        Some(((*pw).pw_uid, (*pw).pw_gid))
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl PgServer {
    /// Initialises and starts a server (a few seconds).
    pub fn start() -> PgServer {
        // Once per process: tickproof reads the password from the environment, as libpq does.
        static PASSWORD_SET: std::sync::Once = std::sync::Once::new();
        PASSWORD_SET.call_once(|| std::env::set_var("PGPASSWORD", PASSWORD));
        let dir = tempfile::Builder::new().prefix("tickproof-pg-").tempdir().unwrap();
        let uid = unprivileged();
        if let Some((u, g)) = uid {
            let c = std::ffi::CString::new(dir.path().as_os_str().as_encoded_bytes()).unwrap();
            // SAFETY: a valid NUL-terminated path.
            assert_eq!(unsafe { libc::chown(c.as_ptr(), u, g) }, 0, "chown of the server's folder");
        }
        let pwfile = dir.path().join("pw");
        std::fs::write(&pwfile, PASSWORD).unwrap();
        if let Some((u, g)) = uid {
            let c = std::ffi::CString::new(pwfile.as_os_str().as_encoded_bytes()).unwrap();
            // SAFETY: as above.
            unsafe { libc::chown(c.as_ptr(), u, g) };
        }
        let mut server = PgServer { bin: pg_bin(), port: free_port(), child: None, uid, dir };
        let out = server
            .command("initdb")
            .args(["-D", "data", "-U", "postgres", "--pwfile", "pw", "--auth-host=scram-sha-256"])
            .args(["--auth-local=scram-sha-256", "--no-sync", "-E", "UTF8", "--locale=C"])
            .output()
            .unwrap();
        assert!(out.status.success(), "initdb: {}", String::from_utf8_lossy(&out.stderr));
        server.run();
        server
    }

    fn command(&self, tool: &str) -> Command {
        let mut c = Command::new(self.bin.join(tool));
        c.current_dir(self.dir.path()).env_remove("PGPASSWORD");
        if let Some((u, g)) = self.uid {
            c.uid(u).gid(g);
        }
        c
    }

    fn run(&mut self) {
        let log = std::fs::File::create(self.dir.path().join("server.log")).unwrap();
        let child = self
            .command("postgres")
            .args(["-D", "data", "-p", &self.port.to_string(), "-k", "."])
            .args(["-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "full_page_writes=off"])
            .args(["-c", "max_connections=60", "-c", "shared_buffers=32MB"])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            match postgres::Client::connect(&self.conn_string("postgres", "postgres"), postgres::NoTls) {
                Ok(_) => return,
                Err(e) if Instant::now() > deadline => {
                    panic!("PostgreSQL did not start: {e}: {}", self.log())
                }
                Err(_) => std::thread::sleep(Duration::from_millis(100)),
            }
        }
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    /// Stops the server (fast shutdown: sessions are cut off) and starts it again on its port.
    pub fn restart(&mut self) {
        self.stop();
        self.run();
    }

    /// Stops the server (fast shutdown).
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            // SAFETY: signalling our own child.
            unsafe { libc::kill(c.id() as i32, libc::SIGINT) };
            let _ = c.wait();
        }
    }

    /// The URL tickproof takes (`postgres://USER@127.0.0.1:PORT/DB`, no password).
    pub fn url(&self, user: &str, db: &str) -> String {
        format!("postgres://{user}@127.0.0.1:{}/{db}", self.port)
    }

    fn conn_string(&self, user: &str, db: &str) -> String {
        format!("host=127.0.0.1 port={} user={user} dbname={db} password={PASSWORD}", self.port)
    }

    /// A superuser session on `db`.
    pub fn superuser(&self, db: &str) -> postgres::Client {
        postgres::Client::connect(&self.conn_string("postgres", db), postgres::NoTls).unwrap()
    }

    /// Creates database `db` and migrates it to the registry schema as the superuser.
    pub fn registry(&self, db: &str) -> String {
        self.superuser("postgres").batch_execute(&format!("CREATE DATABASE {db}")).unwrap();
        tickproof::store::PgStore::migrate(&self.url("postgres", db)).unwrap();
        self.url("postgres", db)
    }

    /// A login role in group `group` (`tickproof_technician`, `_auditor`, `_admin`), a
    /// technician at `branch`; returns its URL for `db`.
    pub fn role(&self, db: &str, name: &str, group: &str, branch: Option<&str>) -> String {
        let mut su = self.superuser(db);
        let exists = su.query_opt("SELECT 1 FROM pg_roles WHERE rolname = $1", &[&name]).unwrap().is_some();
        if !exists {
            su.batch_execute(&format!("CREATE ROLE {name} LOGIN PASSWORD '{PASSWORD}' IN ROLE {group}"))
                .unwrap();
        }
        if let Some(b) = branch {
            su.execute("INSERT INTO branch_member (role_name, branch) VALUES ($1, $2)", &[&name, &b])
                .unwrap();
        }
        self.url(name, db)
    }

    /// The server's folder.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            // SAFETY: signalling our own child (immediate shutdown: nothing to keep).
            unsafe { libc::kill(c.id() as i32, libc::SIGQUIT) };
            let _ = c.wait();
        }
    }
}
