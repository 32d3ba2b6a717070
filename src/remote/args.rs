//! The remote options as the user gave them (`-S`, `--slf`, `--ssh`,
//! `--transfer` …), collected by the flag table and read by [`super::Remote`].

use std::ffi::OsString;

/// Remote options before interpretation.
#[derive(Debug, Default, Clone)]
pub struct Args {
    /// `-S`/`--sshlogin` values, in order.
    pub sshlogin: Vec<OsString>,
    /// `--slf`/`--sshloginfile` files.
    pub sshloginfile: Vec<OsString>,
    /// `--ssh CMD`.
    pub ssh: Option<OsString>,
    /// `--sshdelay SECS`.
    pub sshdelay: Option<OsString>,
    /// `--filter-hosts`.
    pub filter_hosts: bool,
    /// `--transfer`: transfer each job's arguments (as files).
    pub transfer: bool,
    /// `--tf FILE`: files to transfer (templates).
    pub transfer_files: Vec<OsString>,
    /// `--return FILE` (templates).
    pub returns: Vec<OsString>,
    /// `--cleanup`.
    pub cleanup: bool,
    /// `--basefile FILE`.
    pub basefiles: Vec<OsString>,
    /// `--onall`.
    pub onall: bool,
    /// `--nonall`.
    pub nonall: bool,
}

impl Args {
    /// Whether any host was given: the run is a remote one.
    pub fn any_host(&self) -> bool {
        !self.sshlogin.is_empty() || !self.sshloginfile.is_empty()
    }
}
