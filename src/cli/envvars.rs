//! `--record-env` and `--env _`: GNU parallel's list of the variables of
//! a clean environment, `$PARALLEL_HOME/ignored_vars`, written by
//! `--record-env` and needed by `--env _` (which exports every variable
//! not on the list to remote jobs; local jobs get the whole environment
//! anyway).

use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use super::CliError;

/// Variables GNU parallel sets in its own environment before recording,
/// so they are on its list too.
const SET_BY_PARALLEL: [&str; 3] = ["PARALLEL_REMOTE_TMPDIR", "PARALLEL_RSYNC_OPTS", "TMPDIR"];

fn ignored_vars_file() -> Result<PathBuf, CliError> {
    super::profile::parallel_home()
        .map(|home| home.join("ignored_vars"))
        .ok_or_else(|| CliError::Other("--record-env needs $HOME or $PARALLEL_HOME".into()))
}

/// `--record-env`: writes the names of the current environment's
/// variables, one per line.
pub fn record_env() -> Result<(), CliError> {
    let path = ignored_vars_file()?;
    let cannot =
        |e: std::io::Error| CliError::Other(format!("Cannot write to {}: {e}", path.display()));
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(cannot)?;
    }
    let mut names: Vec<Vec<u8>> = std::env::vars_os()
        .map(|(k, _)| k.as_bytes().to_vec())
        .collect();
    for name in SET_BY_PARALLEL {
        if !names.iter().any(|n| n == name.as_bytes()) {
            names.push(name.as_bytes().to_vec());
        }
    }
    let mut text = Vec::new();
    for name in names {
        text.extend_from_slice(&name);
        text.push(b'\n');
    }
    std::fs::File::create(&path)
        .and_then(|mut f| f.write_all(&text))
        .map_err(cannot)
}

/// `--env _` needs the list `--record-env` writes: without it, GNU
/// parallel stops before any job.
pub fn check_env_names(names: &[std::ffi::OsString]) -> Result<(), CliError> {
    let wants_all = names
        .iter()
        .flat_map(|n| n.as_bytes().split(|&b| b == b','))
        .any(|n| n == b"_");
    if wants_all && !ignored_vars_file()?.is_file() {
        return Err(CliError::Other(
            "Run 'parx --record-env' in a clean environment first.".into(),
        ));
    }
    Ok(())
}
