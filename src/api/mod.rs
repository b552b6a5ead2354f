//! The Gold HTTP API (SPEC §6) for BI tools: Gold rows as JSON behind a bearer token, rate
//! limited per client, with bounded query concurrency so a dashboard cannot starve ingestion.
//! Reads Gold only.
//!
//! Hardened for a network it does not control: the rate limit applies before authentication
//! (token guessing and floods get 429 like anyone else), headers must arrive within a timeout
//! and every request finish within another, connections are capped, an answer is capped in
//! rows, a 500 says nothing of the server's insides (the log does), and on a loopback address
//! only a loopback `Host` is served, so a web page cannot reach the API through DNS
//! rebinding.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::NaiveDate;

use governor::clock::{Clock, DefaultClock};
use governor::{Quota, RateLimiter};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::Semaphore;

use crate::gold::{self, read::GoldReadError, read::Grain, read::Selection};
use crate::lake::Lake;

/// Longest date range one request may ask for.
pub const MAX_RANGE_DAYS: i64 = 366;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(
        "refusing to serve on {0} without a token: set CCLAKE_API_TOKEN or --token-file (only 127.0.0.1/::1 may run without one)"
    )]
    NoToken(SocketAddr),
    #[error("cannot read the token file {path}: {source}")]
    TokenFile {
        path: String,
        source: std::io::Error,
    },
    #[error("the token must be at least 16 characters")]
    ShortToken,
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("the server stopped: {0}")]
    Serve(std::io::Error),
}

/// Default most rows in one answer: a year of daily rows for 25 queues.
pub const DEFAULT_MAX_ROWS: usize = 10_000;

/// How the server behaves.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    pub addr: SocketAddr,
    /// `None` runs without authentication (refused unless bound to a loopback address).
    pub token: Option<String>,
    pub requests_per_second: u32,
    pub burst: u32,
    /// Gold queries running at once; more wait their turn.
    pub max_concurrent_queries: usize,
    /// Open connections at once; more are closed as they arrive.
    pub max_connections: usize,
    /// Open connections at once from one address: below `max_connections`, so one client
    /// holding slow connections cannot take every slot.
    pub max_connections_per_client: usize,
    /// A client must send a request's headers within this; a slow one is disconnected.
    pub header_timeout: std::time::Duration,
    /// A request must be answered within this (a 503 says it was not).
    pub request_timeout: std::time::Duration,
    /// Most rows in one answer; a request for more is refused with a 400 in words.
    pub max_rows: usize,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            addr: SocketAddr::from(([127, 0, 0, 1], 8787)),
            token: None,
            requests_per_second: 10,
            burst: 20,
            max_concurrent_queries: 2,
            max_connections: 64,
            max_connections_per_client: 16,
            header_timeout: std::time::Duration::from_secs(10),
            request_timeout: std::time::Duration::from_secs(30),
            max_rows: DEFAULT_MAX_ROWS,
        }
    }
}

/// The token from `CCLAKE_API_TOKEN`, else from a file (first line).
pub fn token_from(
    env: Option<String>,
    file: Option<&std::path::Path>,
) -> Result<Option<String>, ApiError> {
    let token = match (env.filter(|t| !t.trim().is_empty()), file) {
        (Some(t), _) => Some(t.trim().to_string()),
        (None, Some(f)) => Some(
            std::fs::read_to_string(f)
                .map_err(|source| ApiError::TokenFile {
                    path: f.display().to_string(),
                    source,
                })?
                .lines()
                .next()
                .unwrap_or_default()
                .trim()
                .to_string(),
        ),
        (None, None) => None,
    };
    if token.as_ref().is_some_and(|t| t.len() < 16) {
        return Err(ApiError::ShortToken);
    }
    Ok(token)
}

type Limiter =
    RateLimiter<IpAddr, governor::state::keyed::DefaultKeyedStateStore<IpAddr>, DefaultClock>;

struct AppState {
    lake: Lake,
    token: Option<String>,
    limiter: Limiter,
    queries: Semaphore,
    max_rows: usize,
    /// Bound to a loopback address: only loopback `Host` headers are served.
    loopback_only: bool,
}

/// The router, for serving and for tests.
pub fn router(lake: Lake, cfg: &ApiConfig) -> Router {
    let rps = NonZeroU32::new(cfg.requests_per_second.max(1)).unwrap_or(NonZeroU32::MIN);
    let burst = NonZeroU32::new(cfg.burst.max(1)).unwrap_or(NonZeroU32::MIN);
    let state = Arc::new(AppState {
        lake,
        token: cfg.token.clone(),
        limiter: RateLimiter::keyed(Quota::per_second(rps).allow_burst(burst)),
        queries: Semaphore::new(cfg.max_concurrent_queries.max(1)),
        max_rows: cfg.max_rows.max(1),
        loopback_only: cfg.addr.ip().is_loopback(),
    });
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/api/v2/analytics/gold/summary", get(summary))
        .route("/api/v2/analytics/gold/queues", get(queues))
        .layer(axum::middleware::from_fn_with_state(state.clone(), gate))
        .with_state(state)
}

/// What every request passes before its handler: the rate limit (before any token is looked
/// at, so guessing tokens is throttled like anything else), then the `Host` check.
async fn gate(
    State(state): State<Arc<AppState>>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    if let Err(r) = rate_limit(&state, client.ip()) {
        return r.into_response();
    }
    if state.loopback_only && !loopback_host(request.headers()) {
        return error(
            StatusCode::FORBIDDEN,
            "this server only answers requests addressed to localhost, 127.0.0.1 or [::1]",
        );
    }
    next.run(request).await
}

/// True when the `Host` header names this machine's loopback (any port): a page of another
/// site that rebinds its name to 127.0.0.1 still sends its own name.
fn loopback_host(headers: &HeaderMap) -> bool {
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
        return false;
    };
    let name = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => host.rsplit_once(':').map_or(host, |(h, _)| h),
    };
    name.eq_ignore_ascii_case("localhost")
        || name.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Serves until the future `shutdown` completes.
pub async fn serve(
    lake: Lake,
    cfg: ApiConfig,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    on_listening: impl FnOnce(SocketAddr),
) -> Result<(), ApiError> {
    use tower::ServiceExt;
    if cfg.token.is_none() && !cfg.addr.ip().is_loopback() {
        return Err(ApiError::NoToken(cfg.addr));
    }
    let listener = tokio::net::TcpListener::bind(cfg.addr)
        .await
        .map_err(|source| ApiError::Bind {
            addr: cfg.addr,
            source,
        })?;
    let addr = listener.local_addr().map_err(ApiError::Serve)?;
    on_listening(addr);
    let app = router(lake, &cfg);
    let connections = Arc::new(Semaphore::new(cfg.max_connections.max(1)));
    let clients = ClientSlots::new(cfg.max_connections_per_client);
    let (request_timeout, header_timeout) = (cfg.request_timeout, cfg.header_timeout);
    let mut shutdown = std::pin::pin!(shutdown);
    let mut tasks = tokio::task::JoinSet::new();
    loop {
        // Finished connections are reaped as new ones come.
        while tasks.try_join_next().is_some() {}
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                // A client that went away between SYN and accept, or a full fd table.
                Err(e) => {
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        // Over the client's or the server's connection limit: closed at once rather than
        // queued.
        let Some(slot) = clients.take(remote.ip()) else {
            drop(stream);
            continue;
        };
        let Ok(permit) = connections.clone().try_acquire_owned() else {
            drop(stream);
            continue;
        };
        let app = app.clone();
        let service =
            hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
                req.extensions_mut().insert(ConnectInfo(remote));
                let app = app.clone();
                async move {
                    let req = req.map(axum::body::Body::new);
                    match tokio::time::timeout(request_timeout, app.oneshot(req)).await {
                        Ok(r) => r,
                        Err(_) => Ok(error(
                            StatusCode::SERVICE_UNAVAILABLE,
                            "the request took too long and was stopped; try a shorter range",
                        )),
                    }
                }
            });
        tasks.spawn(async move {
            let _permit = (permit, slot);
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(header_timeout)
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service);
            if let Err(e) = conn.await {
                tracing::debug!(%remote, "connection ended: {e}");
            }
        });
    }
    // Requests under way get their time to finish; then the rest are dropped.
    let _ = tokio::time::timeout(request_timeout, async {
        while tasks.join_next().await.is_some() {}
    })
    .await;
    Ok(())
}

/// Connections open per client address.
struct ClientSlots {
    open: std::sync::Mutex<std::collections::HashMap<std::net::IpAddr, usize>>,
    per_client: usize,
}

/// One connection's place in [`ClientSlots`], given back when the connection ends.
struct ClientSlot {
    slots: Arc<ClientSlots>,
    ip: std::net::IpAddr,
}

impl ClientSlots {
    fn new(per_client: usize) -> Arc<ClientSlots> {
        Arc::new(ClientSlots {
            open: std::sync::Mutex::new(std::collections::HashMap::new()),
            per_client: per_client.max(1),
        })
    }

    /// A place for one more connection from `ip`, unless it has all its places.
    fn take(self: &Arc<Self>, ip: std::net::IpAddr) -> Option<ClientSlot> {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let n = open.entry(ip).or_default();
        if *n >= self.per_client {
            return None;
        }
        *n += 1;
        Some(ClientSlot {
            slots: Arc::clone(self),
            ip,
        })
    }
}

impl Drop for ClientSlot {
    fn drop(&mut self) {
        let mut open = self.slots.open.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = open.get_mut(&self.ip) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    Reject::new(status, message).into_response()
}

/// A refused request: its status, the reason in words, and a Retry-After for 429.
struct Reject {
    status: StatusCode,
    message: String,
    retry_after: Option<u64>,
}

impl Reject {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Reject {
            status,
            message: message.into(),
            retry_after: None,
        }
    }
}

impl IntoResponse for Reject {
    fn into_response(self) -> Response {
        let mut r = (
            self.status,
            Json(json!({ "error": self.message, "status": self.status.as_u16() })),
        )
            .into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            r.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(secs) = self.retry_after
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            r.headers_mut().insert(header::RETRY_AFTER, v);
        }
        r
    }
}

/// The token, checked by the data endpoints (the rate limit has already run, in [`gate`]).
fn admit(state: &AppState, headers: &HeaderMap) -> Result<(), Reject> {
    if let Some(expected) = &state.token {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().split_once(' '))
            // The scheme is case-insensitive (RFC 9110 §11.1): `bearer` and `BEARER` too.
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim());
        // Compare in constant time: the token is a secret.
        let ok = given.is_some_and(|g| {
            g.len() == expected.len()
                && g.bytes()
                    .zip(expected.bytes())
                    .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                    == 0
        });
        if !ok {
            return Err(Reject::new(
                StatusCode::UNAUTHORIZED,
                "missing or wrong bearer token (Authorization: Bearer <token>)",
            ));
        }
    }
    Ok(())
}

/// The per-client token bucket.
fn rate_limit(state: &AppState, client: IpAddr) -> Result<(), Reject> {
    if let Err(not_until) = state.limiter.check_key(&client) {
        let wait = not_until.wait_time_from(DefaultClock::default().now());
        let secs = (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1);
        return Err(Reject {
            retry_after: Some(secs),
            ..Reject::new(
                StatusCode::TOO_MANY_REQUESTS,
                format!("rate limit exceeded; retry in {secs} s"),
            )
        });
    }
    Ok(())
}

#[derive(Debug, Deserialize)]
struct SummaryParams {
    date: Option<String>,
    from: Option<String>,
    to: Option<String>,
    granularity: Option<String>,
    queue_id: Option<String>,
}

fn parse_date(name: &str, v: &str) -> Result<NaiveDate, Reject> {
    NaiveDate::parse_from_str(v, "%Y-%m-%d").map_err(|_| {
        Reject::new(
            StatusCode::BAD_REQUEST,
            format!("{name}={v:?} is not a date (YYYY-MM-DD)"),
        )
    })
}

/// A 500 says only that something failed and when; the details go to the server's log, not
/// to a client that may be probing.
fn internal(what: &str, detail: impl std::fmt::Display) -> Response {
    let id = format!("{:08x}", rand::random::<u32>());
    tracing::error!(incident = %id, "{what}: {detail}");
    error(
        StatusCode::INTERNAL_SERVER_ERROR,
        format!("the server could not answer (incident {id}; the details are in its log)"),
    )
}

async fn summary(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    params: Result<Query<SummaryParams>, axum::extract::rejection::QueryRejection>,
) -> Response {
    if let Err(r) = admit(&state, &headers) {
        return r.into_response();
    }
    let Ok(Query(p)) = params else {
        return error(StatusCode::BAD_REQUEST, "bad query string");
    };
    let grain = match p.granularity.as_deref().unwrap_or("daily") {
        "daily" => Grain::Daily,
        "hourly" => Grain::Hourly,
        other => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("granularity={other:?}: use daily or hourly"),
            );
        }
    };
    let (from, to) = match (&p.date, &p.from, &p.to) {
        (Some(d), None, None) => match parse_date("date", d) {
            Ok(d) => (d, d),
            Err(r) => return r.into_response(),
        },
        (None, Some(f), Some(t)) => match (parse_date("from", f), parse_date("to", t)) {
            (Ok(f), Ok(t)) => (f, t),
            (Err(r), _) | (_, Err(r)) => return r.into_response(),
        },
        _ => {
            return error(
                StatusCode::BAD_REQUEST,
                "give date=YYYY-MM-DD, or from= and to= for a range",
            );
        }
    };
    if from > to {
        return error(
            StatusCode::BAD_REQUEST,
            format!("from {from} is after to {to}"),
        );
    }
    if (to - from).num_days() >= MAX_RANGE_DAYS {
        return error(
            StatusCode::BAD_REQUEST,
            format!("the range is longer than {MAX_RANGE_DAYS} days"),
        );
    }
    let Ok(_permit) = state.queries.acquire().await else {
        return error(StatusCode::SERVICE_UNAVAILABLE, "shutting down");
    };
    let sel = Selection {
        from: Some(from),
        to: Some(to),
        queue_id: p.queue_id.clone(),
    };
    match read_gold(&state.lake, grain, &sel).await {
        Ok(rows) if rows.len() > state.max_rows => error(
            StatusCode::BAD_REQUEST,
            format!(
                "the answer has {} rows, more than the {} one answer may hold; ask for a \
                 shorter range or one queue_id",
                rows.len(),
                state.max_rows
            ),
        ),
        Ok(rows) => Json(json!({
            "granularity": p.granularity.as_deref().unwrap_or("daily"),
            "from": from.to_string(),
            "to": to.to_string(),
            "queue_id": p.queue_id,
            "count": rows.len(),
            "rows": rows,
        }))
        .into_response(),
        Err(e) => internal("reading Gold", e),
    }
}

async fn queues(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    if let Err(r) = admit(&state, &headers) {
        return r.into_response();
    }
    let Ok(_permit) = state.queries.acquire().await else {
        return error(StatusCode::SERVICE_UNAVAILABLE, "shutting down");
    };
    match gold::read::queues(&state.lake).await {
        Ok(queues) => Json(json!({ "count": queues.len(), "queues": queues })).into_response(),
        Err(GoldReadError::NotBuilt { .. }) => {
            Json(json!({ "count": 0, "queues": [] })).into_response()
        }
        Err(e) => internal("listing queues", e),
    }
}

/// Gold rows as JSON objects; none while Gold is not built.
async fn read_gold(lake: &Lake, grain: Grain, sel: &Selection) -> Result<Vec<Value>, String> {
    match gold::read::batches(lake, grain, sel).await {
        Ok(batches) => batches_to_json(&batches),
        Err(GoldReadError::NotBuilt { .. }) => Ok(Vec::new()),
        Err(e) => Err(e.to_string()),
    }
}

fn batches_to_json(batches: &[arrow::record_batch::RecordBatch]) -> Result<Vec<Value>, String> {
    // Explicit nulls: a BI tool sees every column in every row.
    let mut w = arrow::json::WriterBuilder::new()
        .with_explicit_nulls(true)
        .build::<_, arrow::json::writer::JsonArray>(Vec::new());
    for b in batches {
        w.write(b).map_err(|e| e.to_string())?;
    }
    w.finish().map_err(|e| e.to_string())?;
    let buf = w.into_inner();
    if buf.is_empty() {
        return Ok(Vec::new());
    }
    serde_json::from_slice(&buf).map_err(|e| e.to_string())
}
