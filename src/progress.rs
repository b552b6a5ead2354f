//! Progress counters and cancellation shared between a running job and whoever watches it.
//!
//! Everything is an atomic so a watcher (the UI thread every frame, the CLI's progress bar)
//! never waits on the worker; the stage name sits behind a mutex that readers only `try_lock`.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

/// The job was cancelled by the user; the lake was left consistent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("cancelled")]
pub struct Cancelled;

/// Live progress of one job.
#[derive(Debug)]
pub struct JobProgress {
    stage: Mutex<String>,
    /// Work done and total, in the job's unit (input bytes for an ingest).
    done: AtomicU64,
    total: AtomicU64,
    records: AtomicU64,
    cancelled: AtomicBool,
    started: Instant,
    /// Milliseconds after `started` when the current stage began.
    stage_started_ms: AtomicU64,
}

impl Default for JobProgress {
    fn default() -> Self {
        JobProgress {
            stage: Mutex::new(String::new()),
            done: AtomicU64::new(0),
            total: AtomicU64::new(0),
            records: AtomicU64::new(0),
            cancelled: AtomicBool::new(false),
            started: Instant::now(),
            stage_started_ms: AtomicU64::new(0),
        }
    }
}

/// A consistent-enough copy of the counters for display.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProgressSnapshot {
    pub stage: String,
    pub done: u64,
    pub total: u64,
    pub records: u64,
    /// Seconds since the current stage began.
    pub elapsed_secs: f64,
}

impl ProgressSnapshot {
    /// Fraction done in 0..=1, when the total is known.
    pub fn fraction(&self) -> Option<f32> {
        (self.total > 0).then(|| (self.done as f32 / self.total as f32).clamp(0.0, 1.0))
    }

    pub fn records_per_sec(&self) -> f64 {
        if self.elapsed_secs > 0.0 {
            self.records as f64 / self.elapsed_secs
        } else {
            0.0
        }
    }

    /// Seconds left at the current pace, once there is a pace to go by.
    pub fn eta_secs(&self) -> Option<f64> {
        let f = f64::from(self.fraction()?);
        (f > 0.01 && f < 1.0).then(|| self.elapsed_secs * (1.0 - f) / f)
    }
}

impl JobProgress {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn set_stage(&self, stage: impl Into<String>) {
        if let Ok(mut s) = self.stage.lock() {
            *s = stage.into();
        }
    }

    /// Starts a new stage: its name, its total, and counters (and the rate clock) from zero.
    pub fn begin_stage(&self, stage: impl Into<String>, total: u64) {
        self.set_stage(stage);
        self.done.store(0, Ordering::Relaxed);
        self.records.store(0, Ordering::Relaxed);
        self.total.store(total, Ordering::Relaxed);
        self.stage_started_ms
            .store(self.started.elapsed().as_millis() as u64, Ordering::Relaxed);
    }

    pub fn set_total(&self, total: u64) {
        self.total.store(total, Ordering::Relaxed);
    }

    pub fn add_total(&self, n: u64) {
        self.total.fetch_add(n, Ordering::Relaxed);
    }

    pub fn add_done(&self, n: u64) {
        self.done.fetch_add(n, Ordering::Relaxed);
    }

    pub fn add_records(&self, n: u64) {
        self.records.fetch_add(n, Ordering::Relaxed);
    }

    /// Counter the job advances directly (e.g. bytes read through a counting reader).
    pub fn done_counter(&self) -> &AtomicU64 {
        &self.done
    }

    pub fn snapshot(&self) -> ProgressSnapshot {
        ProgressSnapshot {
            // Never wait for the worker: an empty stage for one frame is fine.
            stage: self.stage.try_lock().map(|s| s.clone()).unwrap_or_default(),
            done: self.done.load(Ordering::Relaxed),
            total: self.total.load(Ordering::Relaxed),
            records: self.records.load(Ordering::Relaxed),
            elapsed_secs: (self.started.elapsed().as_secs_f64()
                - self.stage_started_ms.load(Ordering::Relaxed) as f64 / 1000.0)
                .max(0.0),
        }
    }

    /// Asks the job to stop at its next safe point.
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::Relaxed);
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Relaxed)
    }

    pub fn check(&self) -> Result<(), Cancelled> {
        if self.is_cancelled() {
            Err(Cancelled)
        } else {
            Ok(())
        }
    }
}

/// A panic caught while one record was handled, where it happened (file and line of cclake or
/// the library that panicked), never what it was handling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaughtPanic {
    pub location: String,
}

impl std::fmt::Display for CaughtPanic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "internal error (panic) at {}", self.location)
    }
}

thread_local! {
    /// Set while [`catch_panic`] runs on this thread: the hook then records where the panic
    /// happened instead of printing its message.
    static GUARDED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    static LAST_PANIC: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// Runs `f`, turning a panic into a [`CaughtPanic`]. Panic messages quote the values they choke
/// on (a string slice names the whole string), so inside the guard nothing is printed: the
/// caller records the location with the record's file and line, and goes on with the next.
pub fn catch_panic<R>(f: impl FnOnce() -> R) -> Result<R, CaughtPanic> {
    set_hook();
    let was = GUARDED.with(|g| g.replace(true));
    let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    GUARDED.with(|g| g.set(was));
    out.map_err(|_| CaughtPanic {
        location: LAST_PANIC
            .with(|l| l.borrow_mut().take())
            .unwrap_or_else(|| "an unknown place".into()),
    })
}

/// Whether a panic outside [`catch_panic`] is printed scrubbed (the program) or handed to the
/// hook that was there before (a test harness, whose messages are the test's own).
static SCRUB_ALL: AtomicBool = AtomicBool::new(false);

/// Makes every panic of the process keep export data out of its output: the location and the
/// message with its quoted parts removed ([`crate::format::scrub_message`]). The binary calls
/// it first thing.
pub fn install_panic_hook() {
    SCRUB_ALL.store(true, Ordering::Relaxed);
    set_hook();
}

/// Installs, once per process, the hook that notes a guarded panic's location and prints
/// nothing for it.
fn set_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let location = info
                .location()
                .map_or_else(|| "?".to_string(), |l| format!("{}:{}", l.file(), l.line()));
            if GUARDED.with(std::cell::Cell::get) {
                LAST_PANIC.with(|l| *l.borrow_mut() = Some(location));
                return;
            }
            if !SCRUB_ALL.load(Ordering::Relaxed) {
                return previous(info);
            }
            let message = info
                .payload()
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| info.payload().downcast_ref::<String>().cloned())
                .unwrap_or_default();
            let thread = std::thread::current();
            eprintln!(
                "thread '{}' panicked at {location}:\n{}",
                thread.name().unwrap_or("<unnamed>"),
                crate::format::scrub_message(&message)
            );
        }));
    });
}

#[cfg(test)]
mod panic_tests {
    use super::*;

    #[test]
    fn a_caught_panic_names_its_place_and_not_its_value() {
        let secret = String::from("☎☎+12065550100");
        let caught = catch_panic(|| {
            let n = secret.len();
            // A byte offset inside the first character: the panic message quotes the string.
            let head = &secret[..std::hint::black_box(1)];
            n + head.len()
        })
        .unwrap_err();
        assert!(caught.location.contains("progress.rs"), "{caught}");
        assert!(!caught.to_string().contains("2065550100"));
        // The guard is left: a later call runs normally.
        assert_eq!(catch_panic(|| 7), Ok(7));
    }
}
