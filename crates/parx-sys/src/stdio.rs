//! parx's own standard output and error as unbuffered `File`s.
//!
//! `std::io::stdout()` is line-buffered and locked; job output is already
//! buffered by parx and often large, so it goes straight to fds 1 and 2.

use std::fs::File;
use std::mem::ManuallyDrop;
use std::os::fd::FromRawFd;

/// A `File` writing to fd `fd` (1 or 2) that never closes it.
pub fn std_file(fd: i32) -> ManuallyDrop<File> {
    assert!(fd == 1 || fd == 2, "only stdout and stderr");
    // SAFETY: fds 1 and 2 stay open for the life of the process (Rust's
    // runtime opens /dev/null on them if they were closed at start), and
    // ManuallyDrop keeps this File from closing the fd.
    ManuallyDrop::new(unsafe { File::from_raw_fd(fd) })
}
