//! Options that tie job starts to the machine: `--load`, `--memfree`,
//! `--noswap`, `-j FILE`, `--nice`; and `--shuf`, the CPU counts,
//! `--record-env`/`--env _`.
//!
//! The machine's state comes from a fake `/proc` (`$PARX_PROC`) whose
//! files are FIFOs the test writes: each time parx looks at the load or
//! the free memory, it reads exactly the figure the test gives it next, so
//! what parx may do at each step is known without any timing.

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::thread::JoinHandle;

fn parx() -> Command {
    Command::new(env!("CARGO_BIN_EXE_parx"))
}

fn mkfifo(path: &Path) {
    rustix::fs::mknodat(
        rustix::fs::CWD,
        path,
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(0o600),
        0,
    )
    .expect("mkfifo");
}

/// Writes a fake `/proc` file, which is a FIFO: every time parx opens
/// it, it reads the text the test gave last.
struct Feeder {
    path: PathBuf,
    tx: Option<mpsc::Sender<Give>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

enum Give {
    /// To the next reader only; reports when it was read.
    Once(String, mpsc::Sender<()>),
    /// To every reader from now on.
    Always(String),
}

impl Feeder {
    fn new(path: PathBuf) -> Feeder {
        mkfifo(&path);
        let stop = Arc::new(AtomicBool::new(false));
        let (tx, rx) = mpsc::channel::<Give>();
        let (p, s) = (path.clone(), stop.clone());
        let write = move |text: &str| -> bool {
            // Blocks until parx opens the FIFO to read it.
            let Ok(mut w) = fs::OpenOptions::new().write(true).open(&p) else {
                return false;
            };
            if s.load(Ordering::SeqCst) {
                return false;
            }
            let _ = w.write_all(text.as_bytes());
            true
        };
        let thread = std::thread::spawn(move || {
            while let Ok(give) = rx.recv() {
                match give {
                    Give::Once(text, done) => {
                        if !write(&text) {
                            return;
                        }
                        let _ = done.send(());
                    }
                    Give::Always(text) => while write(&text) {},
                }
            }
        });
        Feeder {
            path,
            tx: Some(tx),
            stop,
            thread: Some(thread),
        }
    }

    /// Gives `text` to the next reader and returns once it has read it.
    fn give(&self, text: &str) {
        let (done, read) = mpsc::channel();
        self.tx
            .as_ref()
            .unwrap()
            .send(Give::Once(text.to_string(), done))
            .unwrap();
        read.recv().expect("parx read the figure");
    }

    /// Gives `text` to every later reader.
    fn always(&self, text: &str) {
        self.tx
            .as_ref()
            .unwrap()
            .send(Give::Always(text.to_string()))
            .unwrap();
    }
}

impl Drop for Feeder {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        drop(self.tx.take());
        // Opening the read side releases a writer waiting in open().
        let _reader = fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(&self.path);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[test]
fn load_holds_jobs_back_until_it_falls_below_max() {
    let dir = tempfile::tempdir().unwrap();
    let proc_dir = dir.path().join("proc");
    fs::create_dir(&proc_dir).unwrap();
    let ran = dir.path().join("ran");
    let load = Feeder::new(proc_dir.join("stat"));
    let child = parx()
        .args(["--load", "2", "touch {}; echo {}", ":::"])
        .arg(&ran)
        .env("PARX_PROC", &proc_dir)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // 10 running: a load of 9 once parx itself is not counted.
    load.give("procs_running 10\nprocs_blocked 0\n");
    // parx looks again only when it reads the next figure from us, so the
    // job can not have started in between.
    assert!(!ran.exists(), "a job started while the load was 9");
    load.always("procs_running 1\nprocs_blocked 0\n");
    let out = child.wait_with_output().unwrap();
    drop(load);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("{}\n", ran.display())
    );
    assert!(ran.exists());
}

#[test]
fn memfree_holds_jobs_back_until_enough_memory_is_free() {
    let dir = tempfile::tempdir().unwrap();
    let proc_dir = dir.path().join("proc");
    fs::create_dir(&proc_dir).unwrap();
    let ran = dir.path().join("ran");
    let meminfo = Feeder::new(proc_dir.join("meminfo"));
    let mb = |kb: u64| format!("MemFree: {kb} kB\nBuffers: 0 kB\nCached: 0 kB\nSwapCached: 0 kB\n");
    let child = parx()
        .args(["--memfree", "10M", "touch {}; echo {}", ":::"])
        .arg(&ran)
        .env("PARX_PROC", &proc_dir)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // 8 MB free: too little, and nothing runs that could be stopped.
    meminfo.give(&mb(8_000));
    assert!(!ran.exists(), "a job started with too little memory free");
    meminfo.always(&mb(100_000));
    let out = child.wait_with_output().unwrap();
    drop(meminfo);
    assert!(out.status.success(), "{out:?}");
    assert!(ran.exists());
}

#[test]
fn jobs_file_is_read_again_when_a_job_ends() {
    let dir = tempfile::tempdir().unwrap();
    let jobs_file = dir.path().join("jobs");
    fs::write(&jobs_file, "1\n").unwrap();
    // Job 1 rewrites the file to 3 and ends; jobs 2-4 then run at once:
    // each waits until all three have started, which only ends with 3
    // slots (--timeout ends a run that has fewer).
    let script = format!(
        "if [ {{}} = 1 ]; then echo 3 > {jobs}; else echo {{}} >> started; while [ $(wc -l < started) -lt 3 ]; do sleep 0.01; done; fi; echo {{%}} {{}}",
        jobs = jobs_file.display()
    );
    let out = parx()
        .arg("-j")
        .arg(&jobs_file)
        .args(["-k", "--timeout", "30", &script, ":::", "1", "2", "3", "4"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    let slots: Vec<&str> = text.lines().map(|l| l.split(' ').next().unwrap()).collect();
    assert_eq!(slots[0], "1");
    let mut later: Vec<&str> = slots[1..].to_vec();
    later.sort();
    assert_eq!(later, ["1", "2", "3"], "{text}");
}

#[test]
fn nice_sets_the_jobs_niceness() {
    let out = parx()
        .args(["--nice", "7", "cut -d' ' -f19 /proc/self/stat", ":::", "x"])
        .output()
        .unwrap();
    // cut reads /proc/self/stat and the file named x, which is missing.
    let own: i32 = fs::read_to_string("/proc/self/stat")
        .unwrap()
        .split(' ')
        .nth(18)
        .unwrap()
        .parse()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stdout.trim(), (own + 7).min(19).to_string(), "{out:?}");
}

#[test]
fn shuf_runs_every_job_once_in_another_order() {
    let inputs: Vec<String> = (1..=200).map(|i| i.to_string()).collect();
    let out = parx()
        .args(["--shuf", "-j1", "echo"])
        .arg(":::")
        .args(&inputs)
        .output()
        .unwrap();
    assert!(out.status.success());
    let got: Vec<String> = BufReader::new(&out.stdout[..])
        .lines()
        .map(|l| l.unwrap())
        .collect();
    assert_ne!(got, inputs, "200 jobs kept their order (chance 1 in 200!)");
    let mut sorted = got.clone();
    sorted.sort_by_key(|s| s.parse::<u32>().unwrap());
    assert_eq!(sorted, inputs);
}

#[test]
fn cpu_counts_come_from_cpuinfo() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::new();
    let mut n = 0;
    for socket in 0..2 {
        for core in 0..3 {
            for _ in 0..2 {
                text.push_str(&format!(
                    "processor\t: {n}\nphysical id\t: {socket}\ncore id\t\t: {core}\n\n"
                ));
                n += 1;
            }
        }
    }
    fs::write(dir.path().join("cpuinfo"), text).unwrap();
    for (opt, want) in [
        ("--number-of-sockets", "2\n"),
        ("--number-of-cores", "6\n"),
        ("--number-of-cpus", "6\n"),
        ("--number-of-threads", "12\n"),
    ] {
        let out = parx()
            .arg(opt)
            .env("PARX_PROC", dir.path())
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), want, "{opt}");
    }
}

#[test]
fn env_underscore_needs_record_env_first() {
    let home = tempfile::tempdir().unwrap();
    let out = parx()
        .args(["--env", "_", "echo", ":::", "a"])
        .env("PARALLEL_HOME", home.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(255));
    assert_eq!(out.stdout, b"");
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "parx: Run 'parx --record-env' in a clean environment first.\n"
    );
    let out = parx()
        .arg("--record-env")
        .env("PARALLEL_HOME", home.path())
        .env("PARX_TEST_RECORDED", "1")
        .output()
        .unwrap();
    assert!(out.status.success());
    let names = fs::read_to_string(home.path().join("ignored_vars")).unwrap();
    assert!(names.lines().any(|l| l == "PARX_TEST_RECORDED"), "{names}");
    assert!(names.lines().any(|l| l == "PATH"));
    let out = parx()
        .args(["--env", "_", "echo", ":::", "a"])
        .env("PARALLEL_HOME", home.path())
        .output()
        .unwrap();
    assert_eq!(out.stdout, b"a\n");
}

#[test]
fn total_jobs_is_what_the_total_job_count_shows() {
    let out = parx()
        .args([
            "-k",
            "--plus",
            "--total-jobs",
            "5",
            "echo",
            "{##}",
            ":::",
            "a",
            "b",
        ])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "5\n5\n");
}

#[test]
fn tty_without_a_terminal_runs_the_job_as_gnu_parallel_does() {
    let out = parx()
        .args(["--tty", "echo", ":::", "a"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(out.stdout, b"a\n");
}
