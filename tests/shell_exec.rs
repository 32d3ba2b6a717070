//! The executor as the engine drives it: a state machine stepped from one
//! thread that polls pidfds, with the job's fds given as pipes. Checks EOF
//! (every parx copy of a pipe end closed), fds seen by jobs, process
//! groups, per-stage statuses and usage, `&&` spawning after an exit, and
//! the fallback shell.

use std::io::Read;
use std::os::fd::{AsFd, OwnedFd};

use parx::shell::{self, Context, Execution, ProcessGroup, Script, Step};
use parx::sys::Pipe;

/// Drives `ex` like the engine: poll all pidfds, report the readable ones.
fn drive(ex: &mut Execution) -> shell::JobStatus {
    let mut step = ex.start().unwrap();
    loop {
        if let Step::Done(status) = step {
            return status;
        }
        let pids: Vec<i32> = ex.children().map(|c| c.pid()).collect();
        assert!(!pids.is_empty(), "Running with no children");
        let pidfds: Vec<OwnedFd> = ex
            .children()
            .map(|c| c.pidfd().unwrap().try_clone_to_owned().unwrap())
            .collect();
        let mut fds: Vec<rustix::event::PollFd<'_>> = pidfds
            .iter()
            .map(|f| rustix::event::PollFd::new(f, rustix::event::PollFlags::IN))
            .collect();
        rustix::event::poll(&mut fds, None).unwrap();
        let ready: Vec<i32> = fds
            .iter()
            .zip(&pids)
            .filter(|(f, _)| !f.revents().is_empty())
            .map(|(_, p)| *p)
            .collect();
        drop(fds);
        step = Step::Running;
        for pid in ready {
            step = ex.child_exited(pid).unwrap();
        }
    }
}

fn read_all(fd: OwnedFd) -> String {
    let mut s = String::new();
    std::fs::File::from(fd).read_to_string(&mut s).unwrap();
    s
}

fn ctx_with_pipes() -> (Context, OwnedFd, OwnedFd) {
    let (out_r, out_w) = Pipe::new().unwrap().into_ends();
    let (err_r, err_w) = Pipe::new().unwrap().into_ends();
    let ctx = Context {
        stdin: Some(parx::sys::spawn::dev_null().unwrap()),
        stdout: Some(out_w),
        stderr: Some(err_w),
        shell: Some("bash".into()),
        ..Context::default()
    };
    (ctx, out_r, err_r)
}

#[test]
fn pipeline_through_the_state_machine_reaches_eof() {
    let (ctx, out, _err) = ctx_with_pipes();
    let mut ex = Execution::new(Script::new(b"echo hello | tr a-z A-Z | rev"), ctx).unwrap();
    let status = drive(&mut ex);
    drop(ex);
    assert_eq!(status.code, 0);
    assert_eq!(status.pipestatus, vec![0, 0, 0]);
    assert_eq!(status.fallback, None);
    // echo runs in-process into the first pipe: two processes.
    assert_eq!(status.exits.len(), 2);
    // read_to_string returns only at EOF: every write end is closed.
    assert_eq!(read_all(out), "OLLEH\n");
}

#[test]
fn the_job_fds_close_when_the_job_is_done_even_if_the_execution_lives() {
    let (ctx, out, _err) = ctx_with_pipes();
    let mut ex = Execution::new(Script::new(b"printf abc | cat"), ctx).unwrap();
    let status = drive(&mut ex);
    assert_eq!(status.code, 0);
    assert_eq!(read_all(out), "abc");
    drop(ex);
}

#[test]
fn and_spawns_the_second_command_after_the_first_exits() {
    let (ctx, out, _err) = ctx_with_pipes();
    let mut ex = Execution::new(Script::new(b"sh -c 'exit 0' && sh -c 'echo two'"), ctx).unwrap();
    let first = match ex.start().unwrap() {
        Step::Running => ex.children().map(|c| c.pid()).collect::<Vec<_>>(),
        Step::Done(s) => panic!("done early: {s:?}"),
    };
    assert_eq!(first.len(), 1);
    let status = drive_from(&mut ex, first[0]);
    assert_eq!(status.code, 0);
    assert_eq!(status.exits.len(), 2);
    drop(ex);
    assert_eq!(read_all(out), "two\n");
}

fn drive_from(ex: &mut Execution, mut pid: i32) -> shell::JobStatus {
    loop {
        let pidfd = ex
            .children()
            .find(|c| c.pid() == pid)
            .and_then(|c| c.pidfd().map(|f| f.try_clone_to_owned().unwrap()))
            .unwrap();
        let mut fds = [rustix::event::PollFd::new(
            &pidfd,
            rustix::event::PollFlags::IN,
        )];
        rustix::event::poll(&mut fds, None).unwrap();
        match ex.child_exited(pid).unwrap() {
            Step::Done(s) => return s,
            Step::Running => pid = ex.children().next().unwrap().pid(),
        }
    }
}

#[test]
fn failing_middle_stage_and_pipefail() {
    let (mut ctx, _out, _err) = ctx_with_pipes();
    ctx.pipefail = true;
    let status = shell::run(b"echo a | sh -c 'cat; exit 3' | cat", ctx).unwrap();
    assert_eq!(status.pipestatus, vec![0, 3, 0]);
    assert_eq!(status.code, 3);
    let (ctx, _out, _err) = ctx_with_pipes();
    let status = shell::run(b"echo a | sh -c 'cat; exit 3' | cat", ctx).unwrap();
    assert_eq!(status.code, 0);
}

#[test]
fn signals_are_128_plus_n_and_usage_is_recorded() {
    let (ctx, _out, _err) = ctx_with_pipes();
    let status = shell::run(b"sh -c 'kill -9 $$'", ctx).unwrap();
    assert_eq!(status.code, 137);
    assert_eq!(status.exits.len(), 1);
    assert_eq!(
        status.exits[0].exit.status,
        parx::sys::ExitStatus::Signaled {
            signal: 9,
            core_dumped: false
        }
    );
}

#[test]
fn a_job_sees_only_fds_0_1_2() {
    let (ctx, out, _err) = ctx_with_pipes();
    // ls opens the directory itself (fd 3).
    let status = shell::run(b"ls /proc/self/fd | cat", ctx).unwrap();
    assert_eq!(status.code, 0);
    // Beyond 0-3, only fds the test process itself lets children inherit
    // (cargo's jobserver) may appear.
    for fd in read_all(out).lines() {
        let fd: i32 = fd.parse().unwrap();
        if fd > 3 {
            let flags = cloexec_flag(fd);
            assert_eq!(flags, Some(false), "fd {fd} leaked into the job");
        }
    }
}

/// Whether `fd` is open in this process and close-on-exec.
fn cloexec_flag(fd: i32) -> Option<bool> {
    let path = format!("/proc/self/fdinfo/{fd}");
    let info = std::fs::read_to_string(path).ok()?;
    let flags = info.lines().find_map(|l| l.strip_prefix("flags:"))?.trim();
    let flags = u32::from_str_radix(flags, 8).ok()?;
    Some(flags & 0o2000000 != 0)
}

#[test]
fn all_stages_share_one_process_group_led_by_the_first() {
    let (mut ctx, out, _err) = ctx_with_pipes();
    ctx.process_group = ProcessGroup::New;
    let status = shell::run(
        b"sh -c 'cut -d\" \" -f5 /proc/$$/stat; sleep 0.2' | sh -c 'cut -d\" \" -f5 /proc/$$/stat; cat'",
        ctx,
    )
    .unwrap();
    assert_eq!(status.code, 0);
    let text = read_all(out);
    let groups: Vec<&str> = text.lines().collect();
    let first_pid = status.exits.iter().map(|e| e.pid).min().unwrap();
    assert_eq!(groups.len(), 2, "{text:?}");
    assert_eq!(groups[0], groups[1]);
    assert_eq!(groups[0], first_pid.to_string());
}

#[test]
fn signal_reaches_every_stage() {
    let (mut ctx, _out, _err) = ctx_with_pipes();
    ctx.process_group = ProcessGroup::New;
    let mut ex = Execution::new(Script::new(b"sleep 30 | sleep 30"), ctx).unwrap();
    assert!(matches!(ex.start().unwrap(), Step::Running));
    ex.signal(libc::SIGTERM);
    let mut step = Step::Running;
    while let Step::Running = step {
        step = ex.wait_one().unwrap();
    }
    let Step::Done(status) = step else {
        unreachable!()
    };
    assert_eq!(status.pipestatus, vec![143, 143]);
}

#[test]
fn cwd_and_env_overlay_reach_the_job() {
    let dir = tempfile::tempdir().unwrap();
    let (mut ctx, out, _err) = ctx_with_pipes();
    ctx.cwd = Some(dir.path().to_path_buf());
    ctx.env.push(("PARALLEL_SEQ".into(), "7".into()));
    let status = shell::run(
        b"echo $PARALLEL_SEQ > seq; sh -c 'cat seq; echo $PARALLEL_SEQ'",
        ctx,
    )
    .unwrap();
    assert_eq!(status.code, 0);
    assert_eq!(read_all(out), "7\n7\n");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("seq")).unwrap(),
        "7\n"
    );
}

#[test]
fn fallback_runs_as_one_stage_under_the_shell() {
    let (ctx, out, _err) = ctx_with_pipes();
    let status = shell::run(b"for i in 1 2; do echo $i; done | cat", ctx).unwrap();
    assert_eq!(status.fallback, Some("reserved word"));
    assert_eq!(status.exits.len(), 1);
    assert_eq!(read_all(out), "1\n2\n");
}

#[test]
fn fallback_in_the_middle_keeps_the_job_state() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    let (mut ctx, out, _err) = ctx_with_pipes();
    ctx.cwd = Some(dir.path().to_path_buf());
    let status = shell::run(
        b"cd sub; A='x y'; B='*'; false; /bin/echo $A $B $?; pwd",
        ctx,
    )
    .unwrap();
    assert_eq!(
        status.fallback,
        Some("glob characters in an unquoted expansion")
    );
    let expected = format!("x y * 1\n{}/sub\n", dir.path().display());
    assert_eq!(read_all(out), expected);
}

#[test]
fn syntax_errors_are_reported_by_bash_with_status_2() {
    let (ctx, _out, err) = ctx_with_pipes();
    let status = shell::run(b"echo a | | b", ctx).unwrap();
    assert_eq!(status.code, 2);
    assert!(read_all(err).contains("syntax error near unexpected token `|'"));
    assert!(shell::parse(b"echo a | | b").is_err());
}

#[test]
fn replacement_values_are_data() {
    // What the template layer produces for {} = `a b; rm -rf ~ $(reboot)`.
    let value = b"a b; rm -rf ~ $(reboot)";
    let mut cmd = b"/usr/bin/printf '<%s>' ".to_vec();
    cmd.extend_from_slice(&shell::quote(value));
    let script = shell::parse(&cmd).unwrap();
    assert_eq!(script.fallback_reason(), None);
    let (ctx, out, _err) = ctx_with_pipes();
    let status = shell::run(&cmd, ctx).unwrap();
    assert_eq!(status.code, 0);
    assert_eq!(read_all(out), "<a b; rm -rf ~ $(reboot)>");
}

#[test]
fn big_builtin_output_to_a_pipe_goes_through_a_writer_process() {
    let (ctx, out, _err) = ctx_with_pipes();
    let big = "x".repeat(200_000);
    let cmd = format!("echo {big}");
    let reader = std::thread::spawn(move || read_all(out));
    let status = shell::run(cmd.as_bytes(), ctx).unwrap();
    assert_eq!(status.code, 0);
    assert_eq!(status.exits.len(), 1);
    assert_eq!(reader.join().unwrap().len(), 200_001);
}

#[test]
fn execution_is_send() {
    fn is_send<T: Send>() {}
    is_send::<Execution>();
    let _ = AsFd::as_fd(&parx::sys::spawn::dev_null().unwrap());
}

#[test]
fn echo_into_fresh_output_pipes_starts_no_process() {
    let (mut ctx, out, err) = ctx_with_pipes();
    ctx.fresh_output_pipes = true;
    let status = shell::run(b"echo a; cd /nonexistent; echo b >&2; echo c", ctx).unwrap();
    assert_eq!(status.code, 0);
    assert!(status.exits.is_empty(), "{:?}", status.exits);
    assert_eq!(read_all(out), "a\nc\n");
    assert_eq!(
        read_all(err),
        "bash: line 1: cd: /nonexistent: No such file or directory\nb\n"
    );
}

#[test]
fn fresh_output_pipes_stop_being_written_directly_once_a_child_holds_them() {
    let (mut ctx, out, _err) = ctx_with_pipes();
    ctx.fresh_output_pipes = true;
    let reader = std::thread::spawn(move || read_all(out));
    let big = "y".repeat(100_000);
    let cmd = format!("echo a; sh -c 'echo b'; echo c; echo {big}");
    let status = shell::run(cmd.as_bytes(), ctx).unwrap();
    assert_eq!(status.code, 0);
    // sh, then a writer for `c`, then a writer for the big line.
    assert_eq!(status.exits.len(), 3);
    assert_eq!(reader.join().unwrap(), format!("a\nb\nc\n{big}\n"));
}

#[test]
fn job_stdin_reaches_the_first_stage_only() {
    let (mut ctx, out, _err) = ctx_with_pipes();
    let (in_r, in_w) = Pipe::new().unwrap().into_ends();
    ctx.stdin = Some(in_r);
    let writer = std::thread::spawn(move || {
        use std::io::Write;
        let mut f = std::fs::File::from(in_w);
        f.write_all(b"abc\ndef\n").unwrap();
    });
    let status = shell::run(b"cat | tr a-z A-Z; cat", ctx).unwrap();
    writer.join().unwrap();
    assert_eq!(status.code, 0);
    assert_eq!(read_all(out), "ABC\nDEF\n");
}

#[test]
fn dropping_a_running_execution_ends_its_processes() {
    let (mut ctx, out, _err) = ctx_with_pipes();
    ctx.process_group = ProcessGroup::New;
    let mut ex = Execution::new(Script::new(b"sleep 30 | sleep 30"), ctx).unwrap();
    assert!(matches!(ex.start().unwrap(), Step::Running));
    assert_eq!(ex.children().count(), 2);
    drop(ex);
    // Both sleeps are gone, so nothing holds the stdout pipe any more.
    assert_eq!(read_all(out), "");
}

#[test]
fn calling_after_done_is_an_error() {
    let (ctx, _out, _err) = ctx_with_pipes();
    let mut ex = Execution::new(Script::new(b"true"), ctx).unwrap();
    assert!(matches!(ex.start().unwrap(), Step::Done(_)));
    assert!(ex.child_exited(1).is_err());
    assert!(ex.start().is_err());
}

#[test]
fn a_pipeline_that_needs_bash_is_decided_before_any_stage_starts() {
    let dir = tempfile::tempdir().unwrap();
    let (mut ctx, out, _err) = ctx_with_pipes();
    ctx.cwd = Some(dir.path().to_path_buf());
    // If `date >> log` ran natively and then the pipeline were handed to
    // bash, log would get two lines.
    let status = shell::run(
        b"touch x; G='*'; date >> log | echo $G >/dev/null; echo ok",
        ctx,
    )
    .unwrap();
    assert_eq!(
        status.fallback,
        Some("glob characters in an unquoted expansion")
    );
    assert_eq!(read_all(out), "ok\n");
    let log = std::fs::read_to_string(dir.path().join("log")).unwrap();
    assert_eq!(log.lines().count(), 1);
}

/// Blocks until the job's only running child has exited (its pidfd is
/// readable), without reaping it.
fn until_child_exited(ex: &Execution) {
    let child = ex.children().next().expect("a running child");
    let fd = child.pidfd().unwrap();
    let mut fds = [rustix::event::PollFd::new(
        &fd,
        rustix::event::PollFlags::IN,
    )];
    rustix::event::poll(&mut fds, None).unwrap();
}

fn finish(ex: &mut Execution, mut step: Step) -> shell::JobStatus {
    loop {
        match step {
            Step::Done(status) => return status,
            Step::Running => step = ex.wait_one().unwrap(),
        }
    }
}

#[test]
fn stop_ends_the_whole_list_with_the_signal_as_status() {
    let dir = tempfile::tempdir().unwrap();
    let (mut ctx, _out, _err) = ctx_with_pipes();
    ctx.process_group = ProcessGroup::New;
    ctx.cwd = Some(dir.path().to_path_buf());
    let mut ex = Execution::new(Script::new(b"sleep 30; touch after"), ctx).unwrap();
    assert!(matches!(ex.start().unwrap(), Step::Running));
    let step = ex.stop(libc::SIGTERM).unwrap();
    let status = finish(&mut ex, step);
    assert_eq!((status.code, status.killed), (143, Some(libc::SIGTERM)));
    assert!(status.stopped);
    assert!(!dir.path().join("after").exists(), "the list went on");
}

#[test]
fn stop_between_two_commands_runs_nothing_more() {
    let dir = tempfile::tempdir().unwrap();
    let (mut ctx, _out, _err) = ctx_with_pipes();
    ctx.process_group = ProcessGroup::New;
    ctx.cwd = Some(dir.path().to_path_buf());
    let mut ex = Execution::new(Script::new(b"/bin/true; echo x > after"), ctx).unwrap();
    assert!(matches!(ex.start().unwrap(), Step::Running));
    until_child_exited(&ex);
    let Step::Done(status) = ex.stop(libc::SIGTERM).unwrap() else {
        panic!("a job with no process left is done");
    };
    assert_eq!((status.code, status.killed), (143, Some(libc::SIGTERM)));
    assert!(!dir.path().join("after").exists(), "the builtin ran");
}

#[test]
fn stop_after_the_last_command_ended_keeps_the_job_status() {
    let (mut ctx, _out, _err) = ctx_with_pipes();
    ctx.process_group = ProcessGroup::New;
    let mut ex = Execution::new(Script::new(b"/bin/false"), ctx).unwrap();
    assert!(matches!(ex.start().unwrap(), Step::Running));
    until_child_exited(&ex);
    let Step::Done(status) = ex.stop(libc::SIGTERM).unwrap() else {
        panic!("a job with no process left is done");
    };
    assert_eq!(
        (status.code, status.killed, status.stopped),
        (1, None, false)
    );
}

#[test]
fn a_stopped_command_bash_would_exec_keeps_its_own_status() {
    // `bash -c 'sh -c "..."'` execs sh: its own status is the job's.
    let (mut ctx, out, _err) = ctx_with_pipes();
    ctx.process_group = ProcessGroup::New;
    let script = Script::new(b"sh -c 'trap \"exit 3\" TERM; echo ready; sleep 30 & wait'");
    let mut ex = Execution::new(script, ctx).unwrap();
    assert!(matches!(ex.start().unwrap(), Step::Running));
    // The trap is set once `ready` is out.
    let mut out = std::fs::File::from(out);
    let mut ready = [0u8; 6];
    out.read_exact(&mut ready).unwrap();
    assert_eq!(&ready, b"ready\n");
    let step = ex.stop(libc::SIGTERM).unwrap();
    let status = finish(&mut ex, step);
    assert!(status.stopped);
    assert_eq!((status.code, status.killed), (3, None));
}
