//! `--pipe`, `--pipepart`, `--roundrobin`, `--cat` from the command line:
//! the block specification, where the blocks come from, and the jobs that
//! read them.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::fs::File;
use std::io;
use std::rc::Rc;

use super::Config;
use super::config::PipeConfig;
use crate::engine::{self, RunOptions};
use crate::input::{InputError, SourceKind};
use crate::pipemode::run::{
    Blocks, Fifo, PipeJob, RoundRobinFeed, SharedUnits, Unit, unit_to_file,
};
use crate::pipemode::{BlockSize, BlockSpec, DEFAULT_BLOCK_SIZE, Splitter, plan_parts};
use crate::template::Records;

/// Exit status for input parx cannot cut into blocks.
const EXIT_ERROR: i32 = 255;

fn block_spec(pipe: &PipeConfig, config: &Config, block_size: usize) -> BlockSpec {
    BlockSpec {
        block_size,
        recstart: pipe.recstart.clone(),
        recend: pipe.recend.clone(),
        regexp: pipe.regexp,
        records: pipe.records,
        lines: pipe.lines,
        header: pipe.header.clone(),
        skip_first_line: config.skip_first_line,
        remove_rec_sep: pipe.remove_rec_sep,
        ..BlockSpec::default()
    }
}

/// Runs pipe mode; returns parx's exit status.
pub fn run(config: &Config, pipe: &PipeConfig, opts: &RunOptions) -> i32 {
    match run_units(config, pipe, opts) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("parx: {e}");
            EXIT_ERROR
        }
    }
}

fn run_units(config: &Config, pipe: &PipeConfig, opts: &RunOptions) -> Result<i32, String> {
    let units: Box<dyn Iterator<Item = io::Result<Unit>>> = if pipe.part {
        let path = config
            .sources
            .iter()
            .find_map(|s| match &s.kind {
                SourceKind::File(p) => Some(p.clone()),
                _ => None,
            })
            .ok_or("--pipepart needs the file to read: -a FILE")?;
        let file =
            File::open(&path).map_err(|e| format!("can not open {}: {e}", path.display()))?;
        let size = file
            .metadata()
            .map_err(|e| format!("{}: {e}", path.display()))?
            .len();
        let default = if pipe.round_robin { -1.0 } else { -10.0 };
        let block = pipe
            .block
            .unwrap_or(BlockSize::PerJobSlot(-default))
            .resolve(size, opts.jobs);
        let parts = plan_parts(&file, &block_spec(pipe, config, block))
            .map_err(|e| format!("--pipepart {}: {e}", path.display()))?;
        let file = Rc::new(file);
        Box::new(
            parts
                .into_iter()
                .map(move |p| Ok(Unit::from_part(&file, &p))),
        )
    } else {
        let block = match pipe.block {
            Some(BlockSize::Bytes(n)) => n,
            _ => DEFAULT_BLOCK_SIZE,
        };
        let splitter = Splitter::try_new(io::stdin(), block_spec(pipe, config, block))
            .map_err(|e| e.to_string())?;
        Box::new(Blocks::new(splitter))
    };
    if pipe.round_robin {
        return round_robin(config, opts, units);
    }
    // Each unit becomes one record (no value, or the --cat file name) and
    // then one job; the unit waits in `pending` for its job.
    let pending: Rc<RefCell<VecDeque<Unit>>> = Rc::default();
    let tmpdir = config.tmpdir.clone().unwrap_or_else(std::env::temp_dir);
    let files: Rc<RefCell<VecDeque<tempfile::TempPath>>> = Rc::default();
    let fifos: Rc<RefCell<VecDeque<Fifo>>> = Rc::default();
    let (p, f, ff, cat, fifo) = (
        pending.clone(),
        files.clone(),
        fifos.clone(),
        config.cat,
        config.fifo,
    );
    let records: Records = Box::new(units.map(move |unit| {
        let unit = unit.map_err(|source| InputError::Read {
            what: "stdin".into(),
            source,
        })?;
        if fifo {
            let named = Fifo::new(&unit, &tmpdir).map_err(|source| InputError::Read {
                what: "--fifo named pipe".into(),
                source,
            })?;
            let value = named.path().as_os_str().to_owned().into_encoded_bytes();
            ff.borrow_mut().push_back(named);
            Ok(vec![value])
        } else if cat {
            let path = unit_to_file(&unit, &tmpdir).map_err(|source| InputError::Read {
                what: "--cat temporary file".into(),
                source,
            })?;
            let value = path.as_os_str().to_owned().into_encoded_bytes();
            f.borrow_mut().push_back(path);
            Ok(vec![value])
        } else {
            p.borrow_mut().push_back(unit);
            Ok(Vec::new())
        }
    }));
    let jobs = config.pipe_jobs(records).map_err(|e| e.to_string())?;
    let jobs = jobs.map(move |job| {
        job.map(|job| {
            if let Some(file) = files.borrow_mut().pop_front() {
                return PipeJob::with_file(job, file);
            }
            if let Some(named) = fifos.borrow_mut().pop_front() {
                return PipeJob::with_fifo(job, named);
            }
            match pending.borrow_mut().pop_front() {
                Some(unit) => PipeJob::stdin(job, unit),
                None => PipeJob::with_file_less(job),
            }
        })
    });
    Ok(engine::run(opts, jobs))
}

/// `--roundrobin`: `-j` jobs share the stream of units.
fn round_robin(
    config: &Config,
    opts: &RunOptions,
    units: Box<dyn Iterator<Item = io::Result<Unit>>>,
) -> Result<i32, String> {
    let Some(shared) = SharedUnits::new(units).map_err(|e| e.to_string())? else {
        return Ok(0);
    };
    let workers = opts.jobs.max(1);
    let records: Records = Box::new((0..workers).map(|_| Ok(Vec::new())));
    let jobs = config.pipe_jobs(records).map_err(|e| e.to_string())?;
    let jobs = jobs.map_while(move |job| {
        let feed = RoundRobinFeed::with_first_unit(shared.clone())?;
        Some(job.map(|job| PipeJob::shared(job, Box::new(feed))))
    });
    Ok(engine::run(opts, jobs))
}
