//! parx's own standard output and error as unbuffered `File`s, and fds a
//! parent handed to this process at a known number.
//!
//! `std::io::stdout()` is line-buffered and locked; job output is already
//! buffered by parx and often large, so it goes straight to fds 1 and 2.

use std::fs::File;
use std::io;
use std::mem::ManuallyDrop;
use std::os::fd::{FromRawFd, OwnedFd, RawFd};

/// A `File` writing to fd `fd` (1 or 2) that never closes it.
pub fn std_file(fd: i32) -> ManuallyDrop<File> {
    assert!(fd == 1 || fd == 2, "only stdout and stderr");
    // SAFETY: fds 1 and 2 stay open for the life of the process (Rust's
    // runtime opens /dev/null on them if they were closed at start), and
    // ManuallyDrop keeps this File from closing the fd.
    ManuallyDrop::new(unsafe { File::from_raw_fd(fd) })
}

/// Takes ownership of fd `fd` (3 or above), which the parent placed there
/// for this process (an fd map of [`crate::Spawn`]), and marks it
/// close-on-exec so the programs this process starts do not inherit it.
/// Call it once, at start, before anything else can open that number.
pub fn adopt_inherited(fd: RawFd) -> io::Result<OwnedFd> {
    if fd < 3 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "stdin, stdout and stderr are not adopted",
        ));
    }
    // SAFETY: F_GETFD only reads the fd's flags; an fd that is not open
    // gives EBADF.
    if unsafe { libc::fcntl(fd, libc::F_GETFD) } < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the fd is open (checked above) and, by this function's
    // contract, inherited at start and owned by nothing else in this
    // process, so the OwnedFd is its only owner.
    let owned = unsafe { OwnedFd::from_raw_fd(fd) };
    rustix::io::fcntl_setfd(&owned, rustix::io::FdFlags::CLOEXEC)?;
    Ok(owned)
}
