//! `--files` and `--results`: job output goes to files instead of parx's
//! stdout.
//!
//! With `--results` each job's stdout, stderr and sequence number are
//! written where [`super::results::destination`] says (the engine hands
//! the place over with [`Output::destination`] before the job starts), and
//! nothing is printed. With `--files` (and no `--results`) stdout goes to
//! a new, kept file `parXXXXX.par` in the temp dir and stderr is thrown
//! away, as GNU parallel 20221122 does. With `--files`, or `--results`
//! with `--line-buffer`, the name of each job's stdout file is printed
//! (after the `--tag`): when the job ends (in input order with `-k`), or
//! when it starts with `--line-buffer`.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{self, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use super::results::Destination;
use super::sink::Sinks;
use super::{Output, Stream};

/// What `--files`/`--results` were asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Save {
    /// `--files`: print the name of each job's stdout file.
    pub print_names: bool,
    /// `--results`: every job gets a [`Destination`] from the engine.
    pub results: bool,
    /// Where `--files` makes its files (`--tmpdir`, `$TMPDIR`, `/tmp`).
    pub tmpdir: PathBuf,
}

/// When a name is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameTiming {
    /// When the job ends.
    AtEnd,
    /// When the job ends, in input order (`-k`).
    InOrder,
    /// When the job starts (`--line-buffer`).
    AtStart,
}

struct SavedJob {
    out: Option<File>,
    err: Option<File>,
    name: PathBuf,
    tag: Option<Rc<[u8]>>,
    /// `--files` without `--results`: the file parx made (removed again if
    /// the job is retried).
    temporary: bool,
}

/// Output saved to files.
pub struct Saved {
    save: Save,
    timing: NameTiming,
    sinks: Sinks,
    /// Places handed over by the engine, for jobs about to start.
    places: HashMap<u64, Destination>,
    running: HashMap<u64, SavedJob>,
    /// `-k`: names of finished (`Some`) or skipped (`None`) jobs not yet
    /// printed.
    done: BTreeMap<u64, Option<Vec<u8>>>,
    next: u64,
    /// The first error opening a job's files, reported at the next call
    /// that can return one.
    error: Option<io::Error>,
}

impl Saved {
    /// Saved output; names (if any) printed on `sinks.out`.
    pub fn new(save: Save, timing: NameTiming, sinks: Sinks) -> Saved {
        Saved {
            save,
            timing,
            sinks,
            places: HashMap::new(),
            running: HashMap::new(),
            done: BTreeMap::new(),
            next: 1,
            error: None,
        }
    }

    fn prints_names(&self) -> bool {
        self.save.print_names || (self.save.results && self.timing == NameTiming::AtStart)
    }

    fn open(&mut self, seq: u64) -> io::Result<(Option<File>, Option<File>, PathBuf, bool)> {
        if self.save.results {
            let place = self
                .places
                .remove(&seq)
                .ok_or_else(|| io::Error::other(format!("no --results place for job {seq}")))?;
            let create = |p: &Path| {
                File::create(p).map_err(|e| {
                    io::Error::new(e.kind(), format!("can not write to {}: {e}", p.display()))
                })
            };
            create(&place.seq)?.write_all(seq.to_string().as_bytes())?;
            let out = create(&place.stdout)?;
            let err = create(&place.stderr)?;
            return Ok((Some(out), Some(err), place.stdout, false));
        }
        let (file, name) = tempfile::Builder::new()
            .prefix("par")
            .suffix(".par")
            .rand_bytes(5)
            .tempfile_in(&self.save.tmpdir)
            .and_then(|t| t.keep().map_err(|e| e.error))
            // Named as GNU parallel names it: the temp dir as given.
            .map(|(file, path)| match path.file_name() {
                Some(base) => (file, self.save.tmpdir.join(base)),
                None => (file, path),
            })
            .map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!(
                        "can not make a file in {} for --files: {e}",
                        self.save.tmpdir.display()
                    ),
                )
            })?;
        Ok((Some(file), None, name, true))
    }

    fn print_name(&mut self, tag: Option<&[u8]>, name: &[u8]) -> io::Result<()> {
        let mut line = Vec::with_capacity(name.len() + 16);
        line.extend_from_slice(tag.unwrap_or_default());
        line.extend_from_slice(name);
        line.push(b'\n');
        self.sinks.out.write_all(&line)
    }

    fn release(&mut self) -> io::Result<()> {
        while let Some(entry) = self.done.first_entry() {
            if *entry.key() != self.next {
                break;
            }
            if let Some(line) = entry.remove() {
                self.sinks.out.write_all(&line)?;
            }
            self.next += 1;
        }
        Ok(())
    }

    fn take_error(&mut self) -> io::Result<()> {
        match self.error.take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

impl Output for Saved {
    fn destination(&mut self, seq: u64, place: Destination) {
        self.places.insert(seq, place);
    }

    fn started(&mut self, seq: u64, tag: Option<Rc<[u8]>>) {
        let (out, err, name, temporary) = match self.open(seq) {
            Ok(opened) => opened,
            Err(e) => {
                self.error.get_or_insert(e);
                return;
            }
        };
        if self.prints_names()
            && self.timing == NameTiming::AtStart
            && let Err(e) = self.print_name(tag.as_deref(), name.as_os_str().as_bytes())
        {
            self.error.get_or_insert(e);
        }
        self.running.insert(
            seq,
            SavedJob {
                out,
                err,
                name,
                tag,
                temporary,
            },
        );
    }

    fn data(&mut self, seq: u64, stream: Stream, data: &[u8]) -> io::Result<()> {
        self.take_error()?;
        let Some(job) = self.running.get_mut(&seq) else {
            return Ok(());
        };
        let file = match stream {
            Stream::Stdout => job.out.as_mut(),
            Stream::Stderr => job.err.as_mut(),
        };
        match file {
            Some(f) => f.write_all(data).map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!("can not write to {}: {e}", job.name.display()),
                )
            }),
            None => Ok(()),
        }
    }

    fn finished(&mut self, seq: u64) -> io::Result<()> {
        self.take_error()?;
        let job = self.running.remove(&seq);
        if !self.prints_names() || self.timing == NameTiming::AtStart {
            if self.timing == NameTiming::InOrder {
                self.done.insert(seq, None);
                return self.release();
            }
            return Ok(());
        }
        let Some(job) = job else {
            return Ok(());
        };
        let mut line = Vec::new();
        line.extend_from_slice(job.tag.as_deref().unwrap_or_default());
        line.extend_from_slice(job.name.as_os_str().as_bytes());
        line.push(b'\n');
        match self.timing {
            NameTiming::InOrder => {
                self.done.insert(seq, Some(line));
                self.release()
            }
            _ => self.sinks.out.write_all(&line),
        }
    }

    fn skipped(&mut self, seq: u64) -> io::Result<()> {
        if self.timing == NameTiming::InOrder {
            self.done.insert(seq, None);
            return self.release();
        }
        Ok(())
    }

    fn discard(&mut self, seq: u64) {
        // The retry opens (and truncates) the files again; a temp file of
        // the failed attempt is not wanted.
        if let Some(job) = self.running.remove(&seq)
            && job.temporary
        {
            let _ = std::fs::remove_file(&job.name);
        }
    }
}
