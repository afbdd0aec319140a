//! Progress on a terminal: at a million students a score takes tens of seconds, and an analyst
//! running it by hand should see which stage and which file it is on.
//!
//! One progress line on stderr, shown only when stderr is a terminal (`--progress auto`, the
//! default), so the logs of a nightly job stay as they are; `--progress always` draws it on a
//! pipe too (for a wrapper that shows it), `never` never. Before [`start`], and when it is not
//! shown, every function here does nothing. The line carries stage names, file names and byte
//! counts: never a value of the data.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::sync::OnceLock;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle, TermLike};

/// When to show progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum When {
    /// When stderr is a terminal.
    Auto,
    /// Always, also on a pipe or a file.
    Always,
    /// Never.
    Never,
}

static BAR: OnceLock<ProgressBar> = OnceLock::new();

/// The line during a stage that reads no file, and while files are read.
const STAGE: &str = "{spinner} {prefix:.bold} {elapsed}";
const READING: &str = "{spinner} {prefix:.bold} {msg} {bytes}/{total_bytes} {elapsed}";

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_spinner())
}

/// Starts showing progress, when `when` says so; returns whether it is shown.
pub fn start(when: When) -> bool {
    let target = match when {
        When::Never => return false,
        When::Auto if !std::io::stderr().is_terminal() => return false,
        When::Auto => ProgressDrawTarget::stderr_with_hz(10),
        When::Always => ProgressDrawTarget::term_like_with_hz(Box::new(Stderr), 10),
    };
    let bar = ProgressBar::with_draw_target(None, target);
    bar.set_style(style(STAGE));
    bar.enable_steady_tick(Duration::from_millis(100));
    BAR.set(bar).is_ok()
}

/// Whether progress is shown.
pub fn shown() -> bool {
    BAR.get().is_some()
}

/// A stage begins (`read+validate`, `features`, …).
pub fn stage(name: &str) {
    if let Some(bar) = BAR.get() {
        bar.set_style(style(STAGE));
        bar.set_prefix(name.to_string());
        bar.set_message("");
        bar.set_length(0);
        bar.set_position(0);
    }
}

/// A file of `bytes` bytes is being read in the current stage.
pub fn reading(path: &Path, bytes: u64) {
    if let Some(bar) = BAR.get() {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        bar.set_style(style(READING));
        bar.set_message(name);
        bar.inc_length(bytes);
    }
}

/// `bytes` more bytes were read.
pub fn advance(bytes: u64) {
    if let Some(bar) = BAR.get() {
        bar.inc(bytes);
    }
}

/// The run is over: the line is removed.
pub fn finish() {
    if let Some(bar) = BAR.get() {
        bar.finish_and_clear();
    }
}

/// Runs `write` with the progress line out of the way (log lines go between its redraws).
pub fn suspend<R>(write: impl FnOnce() -> R) -> R {
    match BAR.get() {
        Some(bar) => bar.suspend(write),
        None => write(),
    }
}

/// The log's writer while progress is shown: each record is written with the line suspended.
pub struct LogWriter;

impl Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        suspend(|| std::io::stderr().write(buf))
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

/// stderr as a terminal of 80 columns, for `--progress always` on a pipe.
#[derive(Debug)]
struct Stderr;

impl Stderr {
    fn put(&self, text: &str) -> std::io::Result<()> {
        std::io::stderr().write_all(text.as_bytes())
    }

    /// Moves the cursor `n` places in the ANSI direction `direction` (A up, B down, C right,
    /// D left); nothing for 0, which a terminal would read as 1.
    fn cursor(&self, n: usize, direction: char) -> std::io::Result<()> {
        match n {
            0 => Ok(()),
            _ => self.put(&format!("\x1b[{n}{direction}")),
        }
    }
}

impl TermLike for Stderr {
    fn width(&self) -> u16 {
        80
    }

    fn move_cursor_up(&self, n: usize) -> std::io::Result<()> {
        self.cursor(n, 'A')
    }

    fn move_cursor_down(&self, n: usize) -> std::io::Result<()> {
        self.cursor(n, 'B')
    }

    fn move_cursor_right(&self, n: usize) -> std::io::Result<()> {
        self.cursor(n, 'C')
    }

    fn move_cursor_left(&self, n: usize) -> std::io::Result<()> {
        self.cursor(n, 'D')
    }

    fn write_line(&self, s: &str) -> std::io::Result<()> {
        self.put(s)?;
        self.put("\n")
    }

    fn write_str(&self, s: &str) -> std::io::Result<()> {
        self.put(s)
    }

    fn clear_line(&self) -> std::io::Result<()> {
        self.put("\r\x1b[2K")
    }

    fn flush(&self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

/// " (memory N MB, peak so far M MB)" for the run log's stage and file lines: the process's
/// resident memory now and at its peak (Linux: `VmRSS` and `VmHWM` of /proc/self/status);
/// empty elsewhere. The two tell what a stage keeps from what it needed while it ran.
pub fn peak_memory_note() -> String {
    let read = || -> Option<(u64, u64)> {
        let status = std::fs::read_to_string("/proc/self/status").ok()?;
        let mb = |key: &str| -> Option<u64> {
            let line = status.lines().find(|l| l.starts_with(key))?;
            let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
            Some(kb / 1024)
        };
        Some((mb("VmRSS:")?, mb("VmHWM:")?))
    };
    read()
        .map(|(now, peak)| format!(" (memory {now} MB, peak so far {peak} MB)"))
        .unwrap_or_default()
}
