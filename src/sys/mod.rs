//! Placeholder: safe wrappers over pipes, spawning, waiting, signals (in progress).
