//! Work the UI asks the runtime for (a query, a listing) and picks up when it is ready: the UI
//! thread polls, never waits.

use std::future::Future;

use tokio::sync::oneshot;

/// A value being computed on the runtime.
pub struct Fetch<T> {
    rx: Option<oneshot::Receiver<Result<T, String>>>,
    value: Option<Result<T, String>>,
    started: std::time::Instant,
}

impl<T: Send + 'static> Fetch<T> {
    /// Starts `work` on the runtime; the UI is asked to repaint when it is done.
    pub fn spawn<F>(rt: &tokio::runtime::Handle, ctx: &egui::Context, work: F) -> Self
    where
        F: Future<Output = Result<T, String>> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let ctx = ctx.clone();
        rt.spawn(async move {
            let result = work.await;
            let _ = tx.send(result);
            ctx.request_repaint();
        });
        Fetch {
            rx: Some(rx),
            value: None,
            started: std::time::Instant::now(),
        }
    }

    /// Starts `work` without a context to wake (the caller polls on its own frames).
    pub fn spawn_detached<F>(rt: &tokio::runtime::Handle, work: F) -> Self
    where
        F: Future<Output = Result<T, String>> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        rt.spawn(async move {
            let _ = tx.send(work.await);
        });
        Fetch {
            rx: Some(rx),
            value: None,
            started: std::time::Instant::now(),
        }
    }

    /// Already known.
    pub fn ready(value: Result<T, String>) -> Self {
        Fetch {
            rx: None,
            value: Some(value),
            started: std::time::Instant::now(),
        }
    }

    /// Picks up the result if it arrived. Call once a frame.
    pub fn poll(&mut self) -> Option<&Result<T, String>> {
        if let Some(rx) = &mut self.rx {
            match rx.try_recv() {
                Ok(v) => {
                    self.value = Some(v);
                    self.rx = None;
                }
                Err(oneshot::error::TryRecvError::Empty) => {}
                Err(oneshot::error::TryRecvError::Closed) => {
                    self.value = Some(Err("the background task stopped".into()));
                    self.rx = None;
                }
            }
        }
        self.value.as_ref()
    }

    /// Takes the result out once it arrived (the fetch is then empty).
    pub fn take(&mut self) -> Option<Result<T, String>> {
        self.poll();
        self.value.take()
    }

    pub fn is_loading(&self) -> bool {
        self.rx.is_some()
    }

    pub fn ok(&mut self) -> Option<&T> {
        self.poll().and_then(|r| r.as_ref().ok())
    }

    pub fn elapsed_secs(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }
}
