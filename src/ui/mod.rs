//! The desktop app (eframe/egui): a shell over the pipeline and the lake. The UI thread only
//! draws and polls; lake reads, queries and jobs run on the tokio runtime built in `main`.

pub mod app;
pub mod fetch;
pub mod grid;
pub mod jobs;
pub mod pane;
pub mod panes;
mod shell;

pub use app::{AppState, CclakeApp};
pub use pane::{AppCommand, Pane, PaneContext, PaneId};

/// Opens the app window and runs it until it is closed.
pub fn run(
    rt: tokio::runtime::Handle,
    lake: Option<String>,
    default_lake: String,
) -> Result<(), eframe::Error> {
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("cclake")
            .with_inner_size([1440.0, 900.0])
            .with_min_inner_size([900.0, 600.0])
            .with_drag_and_drop(true),
        ..Default::default()
    };
    eframe::run_native(
        "cclake",
        options,
        Box::new(move |cc| {
            let stored: Option<AppState> = cc
                .storage
                .and_then(|s| eframe::get_value(s, eframe::APP_KEY));
            // The key is resolved once; a missing or bad key is shown in the app, and jobs
            // that mask refuse to run without one.
            let key = crate::silver::digest::HmacKey::from_environment().map_err(|e| e.to_string());
            Ok(Box::new(CclakeApp::new(
                rt,
                stored,
                lake,
                default_lake,
                key,
            )))
        }),
    )
}
