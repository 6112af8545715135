//! `tickproof completions SHELL` and `tickproof man`: shell completions and manual pages,
//! generated from the same clap definitions that parse the arguments, so they never drift.
use super::{Cli, ExitCode, Failure};
use clap::CommandFactory;
use std::path::PathBuf;

/// Arguments of `tickproof completions`.
#[derive(Debug, clap::Args)]
pub struct CompletionArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Arguments of `tickproof man`.
#[derive(Debug, clap::Args)]
pub struct ManArgs {
    /// Write `tickproof.1` and one page per subcommand (`tickproof-analyze.1`, ...) into this
    /// folder (made if missing) instead of printing the main page.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

/// Prints the completion script for a shell.
pub fn completions(args: CompletionArgs) -> Result<ExitCode, Failure> {
    let mut cmd = Cli::command();
    let mut buf = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "tickproof", &mut buf);
    super::out::write_all(&buf);
    Ok(ExitCode::Ok)
}

/// Prints the main manual page, or writes every page into a folder.
pub fn man(args: ManArgs) -> Result<ExitCode, Failure> {
    let cmd = Cli::command();
    let render = |m: clap_mangen::Man| -> Result<Vec<u8>, Failure> {
        let mut buf = Vec::new();
        m.render(&mut buf).map_err(|e| Failure::new(ExitCode::Internal, e.to_string()))?;
        Ok(buf)
    };
    let Some(dir) = args.out else {
        super::out::write_all(&render(clap_mangen::Man::new(cmd))?);
        return Ok(ExitCode::Ok);
    };
    let storage = |p: &std::path::Path, e: std::io::Error| {
        Failure::new(ExitCode::Storage, format!("{}: cannot write: {e}", p.display()))
    };
    std::fs::create_dir_all(&dir).map_err(|e| storage(&dir, e))?;
    let mut pages = vec![("tickproof.1".to_string(), render(clap_mangen::Man::new(cmd.clone()))?)];
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        let name = format!("tickproof-{}", sub.get_name());
        let page = render(clap_mangen::Man::new(sub.clone()).title(name.clone()))?;
        pages.push((format!("{name}.1"), page));
    }
    for (file, bytes) in &pages {
        let path = dir.join(file);
        std::fs::write(&path, bytes).map_err(|e| storage(&path, e))?;
    }
    crate::outln!("wrote {} manual pages to {}", pages.len(), dir.display());
    Ok(ExitCode::Ok)
}
