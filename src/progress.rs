//! `--progress`, `--eta` and `--bar`: how far the run is, on stderr only.
//!
//! Drawn only when asked for. On a terminal the line is redrawn in place
//! at most ten times a second; when stderr is a file or a log collector,
//! a plain line is written at most once a second (no spinner, no control
//! characters flooding logs), and a final line at the end.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use crate::engine::ProgressStyle;

/// The counters the display shows.
#[derive(Debug, Clone, Copy, Default)]
pub struct Counts {
    /// Jobs running now.
    pub running: u64,
    /// Jobs finished.
    pub done: u64,
    /// Jobs failed (among `done`).
    pub failed: u64,
    /// All jobs, once the input has been read to the end.
    pub total: Option<u64>,
}

/// A progress display on stderr.
pub struct Progress {
    style: ProgressStyle,
    tty: bool,
    started: Instant,
    last_draw: Option<Instant>,
}

impl Progress {
    /// A display in `style` (nothing is drawn for `ProgressStyle::None`).
    pub fn new(style: ProgressStyle) -> Progress {
        Progress {
            style,
            tty: std::io::stderr().is_terminal(),
            started: Instant::now(),
            last_draw: None,
        }
    }

    /// Redraws if enough time has passed since the last draw.
    pub fn update(&mut self, counts: Counts) {
        if self.style == ProgressStyle::None {
            return;
        }
        let every = if self.tty {
            Duration::from_millis(100)
        } else {
            Duration::from_secs(1)
        };
        if self.last_draw.is_some_and(|t| t.elapsed() < every) {
            return;
        }
        self.draw(counts);
    }

    /// Draws the final state and ends the line.
    pub fn finish(&mut self, counts: Counts) {
        if self.style == ProgressStyle::None {
            return;
        }
        self.draw(counts);
        if self.tty {
            let _ = writeln!(std::io::stderr());
        }
    }

    fn draw(&mut self, c: Counts) {
        self.last_draw = Some(Instant::now());
        let line = render(self.style, c, self.started.elapsed());
        let mut err = std::io::stderr().lock();
        let _ = if self.tty {
            write!(err, "\r\x1b[K{line}")
        } else {
            writeln!(err, "{line}")
        };
    }
}

/// The text of one progress line.
pub fn render(style: ProgressStyle, c: Counts, elapsed: Duration) -> String {
    let avg = if c.done > 0 {
        elapsed.as_secs_f64() / c.done as f64
    } else {
        0.0
    };
    let left = c.total.map(|t| t.saturating_sub(c.done));
    let eta = left.map(|l| l as f64 * avg);
    match style {
        ProgressStyle::None => String::new(),
        ProgressStyle::Progress => format!(
            "local:{}/{}/{}%/{:.1}s failed:{}",
            c.running,
            c.done,
            c.total.filter(|&t| t > 0).map_or(100, |t| c.done * 100 / t),
            avg,
            c.failed
        ),
        ProgressStyle::Eta => match (eta, left) {
            (Some(eta), Some(left)) => {
                format!(
                    "ETA: {eta:.0}s Left: {left} AVG: {avg:.2}s  local:{}/{}",
                    c.running, c.done
                )
            }
            _ => format!(
                "ETA: ?s Left: ? AVG: {avg:.2}s  local:{}/{}",
                c.running, c.done
            ),
        },
        ProgressStyle::Bar => {
            let pct = c
                .total
                .filter(|&t| t > 0)
                .map_or(0, |t| (c.done * 100 / t).min(100));
            let width = 40usize;
            let filled = width * pct as usize / 100;
            format!(
                "{pct:3}% {}/{} [{}{}] ETA {}s",
                c.done,
                c.total.map_or("?".to_string(), |t| t.to_string()),
                "=".repeat(filled),
                " ".repeat(width - filled),
                eta.map_or("?".to_string(), |e| format!("{e:.0}"))
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bar_shows_percentage_and_counts() {
        let c = Counts {
            running: 2,
            done: 5,
            failed: 1,
            total: Some(10),
        };
        let line = render(ProgressStyle::Bar, c, Duration::from_secs(5));
        assert!(line.starts_with(" 50% 5/10 ["), "{line}");
        assert!(line.ends_with("ETA 5s"), "{line}");
        let eta = render(ProgressStyle::Eta, c, Duration::from_secs(5));
        assert_eq!(eta, "ETA: 5s Left: 5 AVG: 1.00s  local:2/5");
    }
}
