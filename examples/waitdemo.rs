//! The lecture's `waitdemo`: a parent starts a child, the child sleeps half
//! a second, says goodbye and exits; the parent *blocks* until the child has
//! exited, then prints how it ended.
//!
//! ```text
//! cargo run --example waitdemo              # exits with status 0
//! cargo run --example waitdemo -- exit 3    # exits with status 3
//! cargo run --example waitdemo -- abort     # killed by SIGABRT
//! ```
//!
//! There is no `fork()` here: the child is this same program, started
//! again with `--child` (as `posix_spawn` starts any program).

use std::time::Duration;

use parx::sys::{ExitStatus, Spawn};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--child") {
        child(&args[1..]);
    }

    println!("Hello from parent pid {}", std::process::id());
    // Start the child: our own executable, with `--child` and the mode.
    let mut spawn = Spawn::new(std::env::current_exe()?);
    spawn.arg("--child").args(&args);
    let child = spawn.spawn()?;

    // `wait` blocks (the kernel does not run us) until the child exits, then
    // reaps it, so it does not stay a zombie. `elapsed` is the time from
    // spawn to exit.
    let exit = child.wait()?;
    let secs = exit.elapsed.as_secs_f64();
    match exit.status {
        ExitStatus::Exited(code) => {
            println!("Child exited with status {code} after {secs:.1} sec")
        }
        ExitStatus::Signaled { .. } => {
            println!(
                "Child exited abnormally: {} after {secs:.1} sec",
                exit.status
            )
        }
    }
    Ok(())
}

/// The child's side: sleep, say goodbye, end as asked.
fn child(mode: &[String]) -> ! {
    std::thread::sleep(Duration::from_millis(500));
    println!("Goodbye from child pid {}", std::process::id());
    match mode {
        [m] if m == "abort" => std::process::abort(),
        [m, code] if m == "exit" => std::process::exit(code.parse().unwrap_or(1)),
        _ => std::process::exit(0),
    }
}
