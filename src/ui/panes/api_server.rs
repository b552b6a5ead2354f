//! The API server pane: the Gold API server (start, stop, its address and token) for BI tools.

use std::net::SocketAddr;

use tokio::sync::oneshot;

use crate::api::{self, ApiConfig};
use crate::lake::Lake;
use crate::ui::fetch::Fetch;
use crate::ui::pane::{Pane, PaneContext};

/// A running server.
struct Running {
    lake: String,
    addr: Option<SocketAddr>,
    addr_rx: std::sync::mpsc::Receiver<SocketAddr>,
    stop: Option<oneshot::Sender<()>>,
    ended: Fetch<()>,
}

pub struct ApiServerPane {
    addr: String,
    token: String,
    rate: u32,
    burst: u32,
    running: Option<Running>,
    error: Option<String>,
    show_token: bool,
}

impl Default for ApiServerPane {
    fn default() -> Self {
        ApiServerPane {
            addr: "127.0.0.1:8787".into(),
            token: std::env::var("CCLAKE_API_TOKEN").unwrap_or_default(),
            rate: 10,
            burst: 20,
            running: None,
            error: None,
            show_token: false,
        }
    }
}

impl ApiServerPane {
    /// The address the server listens on, once it does.
    pub fn serving_on(&self) -> Option<SocketAddr> {
        self.running.as_ref()?.addr
    }

    pub fn set_addr(&mut self, addr: &str) {
        self.addr = addr.into();
    }

    /// Starts the server on the lake.
    pub fn start(&mut self, rt: &tokio::runtime::Handle, ctx: &egui::Context, lake: &Lake) {
        let addr: SocketAddr = match self.addr.trim().parse() {
            Ok(a) => a,
            Err(_) => {
                self.error = Some(format!(
                    "{:?} is not an address like 127.0.0.1:8787",
                    self.addr
                ));
                return;
            }
        };
        let token = match api::token_from(Some(self.token.clone()), None) {
            Ok(t) => t,
            Err(e) => {
                self.error = Some(e.to_string());
                return;
            }
        };
        let cfg = ApiConfig {
            addr,
            token,
            requests_per_second: self.rate,
            burst: self.burst,
            ..Default::default()
        };
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let l = lake.clone();
        let c = ctx.clone();
        let ended = Fetch::spawn(rt, ctx, async move {
            api::serve(
                l,
                cfg,
                async {
                    let _ = stop_rx.await;
                },
                move |a| {
                    let _ = addr_tx.send(a);
                    c.request_repaint();
                },
            )
            .await
            .map_err(|e| e.to_string())
        });
        self.error = None;
        self.running = Some(Running {
            lake: lake.location().to_string(),
            addr: None,
            addr_rx,
            stop: Some(stop_tx),
            ended,
        });
    }

    pub fn stop(&mut self) {
        if let Some(r) = &mut self.running
            && let Some(tx) = r.stop.take()
        {
            let _ = tx.send(());
        }
    }

    fn poll(&mut self) {
        let Some(r) = &mut self.running else { return };
        if let Ok(a) = r.addr_rx.try_recv() {
            r.addr = Some(a);
        }
        if let Some(result) = r.ended.poll() {
            if let Err(e) = result {
                self.error = Some(e.clone());
            }
            self.running = None;
        }
    }

    /// The server's settings, editable while it is stopped.
    fn settings(&mut self, ui: &mut egui::Ui) {
        let running = self.running.is_some();
        egui::Grid::new("api_settings")
            .num_columns(2)
            .spacing([12.0, 8.0])
            .show(ui, |ui| {
                ui.label("Address");
                ui.add_enabled(
                    !running,
                    egui::TextEdit::singleline(&mut self.addr).desired_width(200.0),
                );
                ui.end_row();
                ui.label("Bearer token");
                ui.horizontal(|ui| {
                    ui.add_enabled(
                        !running,
                        egui::TextEdit::singleline(&mut self.token)
                            .password(!self.show_token)
                            .hint_text("16+ characters; empty: no auth, loopback only")
                            .desired_width(320.0),
                    );
                    ui.checkbox(&mut self.show_token, "show");
                    if ui
                        .add_enabled(!running, egui::Button::new("Generate"))
                        .clicked()
                    {
                        use rand::Rng;
                        let mut rng = rand::rng();
                        self.token = (0..32)
                            .map(|_| {
                                char::from(
                                    b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
                                        [rng.random_range(0..56)],
                                )
                            })
                            .collect();
                    }
                });
                ui.end_row();
                ui.label("Rate limit per client");
                ui.horizontal(|ui| {
                    ui.add_enabled(
                        !running,
                        egui::DragValue::new(&mut self.rate)
                            .range(1..=10_000)
                            .suffix(" /s"),
                    );
                    ui.label("burst");
                    ui.add_enabled(
                        !running,
                        egui::DragValue::new(&mut self.burst).range(1..=10_000),
                    );
                });
                ui.end_row();
            });
    }
}

impl Pane for ApiServerPane {
    fn ui(&mut self, ui: &mut egui::Ui, ctx: &PaneContext<'_>) {
        self.poll();
        ui.heading("Gold API for BI tools");
        ui.label("Serves the open lake's Gold tables over HTTP: GET /api/v2/analytics/gold/summary?date=YYYY-MM-DD&granularity=daily|hourly[&queue_id=…], /api/v2/analytics/gold/queues, /healthz.");
        ui.add_space(6.0);
        self.settings(ui);
        ui.add_space(6.0);
        match (&self.running, ctx.lake) {
            (Some(r), _) => {
                match r.addr {
                    Some(a) => {
                        ui.label(format!(
                            "serving {} on http://{a}/api/v2/analytics/gold/summary",
                            r.lake
                        ));
                    }
                    None => {
                        ui.label("starting…");
                    }
                }
                if ui.button("Stop server").clicked() {
                    self.stop();
                }
            }
            (None, Some(lake)) => {
                if ui.button("Start server").clicked() {
                    self.start(ctx.rt, ui.ctx(), lake);
                }
            }
            (None, None) => {
                ui.label("Open a lake first.");
            }
        }
        if let Some(e) = &self.error {
            ui.colored_label(ui.visuals().error_fg_color, e);
        }
        ui.add_space(10.0);
        ui.weak("The same server runs headless with `cclake serve --lake L` (token from CCLAKE_API_TOKEN).");
    }
}
