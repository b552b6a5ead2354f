//! The Genesys Cloud connector against a local server that speaks the same endpoints with
//! recorded-shape payloads: happy path with pagination and a job that takes a while, 429
//! backoff with Retry-After, resume after an interruption without ingesting a page twice, and
//! bad credentials.

mod common;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use cclake::lake::Lake;
use cclake::pipeline::JobProgress;
use cclake::pipeline::pull::pull_genesys;
use cclake::sources::genesys::{Credentials, PullError, PullOptions};
use serde_json::json;

const PAGES: usize = 3;
const PER_PAGE: usize = 4;

#[derive(Default)]
struct Server {
    jobs_created: u32,
    polls: u32,
    /// Requests per results cursor ("" for the first page).
    page_requests: HashMap<String, u32>,
    /// Answer 429 (with Retry-After: 1) to the first request for this cursor.
    throttle_cursor: Option<String>,
    /// Answer 500 to every request for this cursor (an outage mid-pull).
    fail_cursor: Option<String>,
}

type Shared = Arc<Mutex<Server>>;

fn conversation(page: usize, i: usize) -> serde_json::Value {
    let n = page * PER_PAGE + i;
    json!({
        "conversationId": format!("conv-{n:04}"),
        "conversationStart": format!("2026-10-0{}T1{}:00:00.000Z", 1 + page, i),
        "conversationEnd": format!("2026-10-0{}T1{}:09:00.000Z", 1 + page, i),
        "originatingDirection": "inbound",
        "participants": [
            {"purpose": "customer", "sessions": [{"mediaType": "voice", "ani": format!("tel:+1317555{:04}", 100 + n)}]},
            {"purpose": "acd", "participantName": "Claims", "sessions": [{"mediaType": "voice",
                "metrics": [{"name": "tAnswered", "value": 12000}],
                "segments": [{"segmentType": "interact", "queueId": "q-claims"}]}]},
            {"purpose": "agent", "userId": "agent-1", "sessions": [{"mediaType": "voice",
                "metrics": [{"name": "tTalk", "value": 300000}, {"name": "tAcw", "value": 30000}]}]}
        ]
    })
}

async fn token(headers: HeaderMap, body: String) -> Response {
    // "id:secret" in basic auth, the form body of a client-credentials grant.
    let ok = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == "Basic aWQ6c2VjcmV0");
    if !ok || body != "grant_type=client_credentials" {
        return (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({"error": "invalid_client", "description": "client not found"})),
        )
            .into_response();
    }
    axum::Json(json!({"access_token": "tok-1", "token_type": "bearer", "expires_in": 86399}))
        .into_response()
}

fn authorized(headers: &HeaderMap) -> bool {
    headers.get("authorization").and_then(|v| v.to_str().ok()) == Some("Bearer tok-1")
}

async fn create(State(s): State<Shared>, headers: HeaderMap, body: String) -> Response {
    if !authorized(&headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert!(v["interval"].as_str().unwrap().contains('/'));
    let mut s = s.lock().unwrap();
    s.jobs_created += 1;
    axum::Json(json!({"jobId": format!("job-{}", s.jobs_created)})).into_response()
}

async fn job(State(s): State<Shared>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    if !authorized(&headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    if !id.starts_with("job-") {
        return StatusCode::NOT_FOUND.into_response();
    }
    let mut s = s.lock().unwrap();
    s.polls += 1;
    // The first poll finds the job still running.
    let state = if s.polls == 1 { "PENDING" } else { "FULFILLED" };
    axum::Json(json!({"state": state, "submissionDate": "2026-10-05T00:00:00Z"})).into_response()
}

async fn results(
    State(s): State<Shared>,
    Path(_id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    if !authorized(&headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let cursor = q.get("cursor").cloned().unwrap_or_default();
    let mut s = s.lock().unwrap();
    let n = s.page_requests.entry(cursor.clone()).or_default();
    *n += 1;
    let first_request = *n == 1;
    if s.throttle_cursor.as_deref() == Some(cursor.as_str()) && first_request {
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [("retry-after", "1")],
            "slow down",
        )
            .into_response();
    }
    if s.fail_cursor.as_deref() == Some(cursor.as_str()) {
        return (StatusCode::INTERNAL_SERVER_ERROR, "backend unavailable").into_response();
    }
    let page = if cursor.is_empty() {
        0
    } else {
        cursor.trim_start_matches("c").parse::<usize>().unwrap()
    };
    let conversations: Vec<_> = (0..PER_PAGE).map(|i| conversation(page, i)).collect();
    let mut body = json!({"conversations": conversations});
    if page + 1 < PAGES {
        body["cursor"] = json!(format!("c{}", page + 1));
    }
    axum::Json(body).into_response()
}

fn start(rt: &tokio::runtime::Runtime, server: Shared) -> SocketAddr {
    let app = Router::new()
        .route("/oauth/token", post(token))
        .route("/api/v2/analytics/conversations/details/jobs", post(create))
        .route(
            "/api/v2/analytics/conversations/details/jobs/{id}",
            get(job),
        )
        .route(
            "/api/v2/analytics/conversations/details/jobs/{id}/results",
            get(results),
        )
        .with_state(server);
    rt.block_on(async {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
        addr
    })
}

fn options(addr: SocketAddr, dir: &std::path::Path, secret: &str) -> PullOptions {
    PullOptions {
        from: "2026-10-01T00:00:00Z".parse().unwrap(),
        to: "2026-10-04T00:00:00Z".parse().unwrap(),
        region: "mypurecloud.com".into(),
        credentials: Credentials {
            client_id: "id".into(),
            client_secret: secret.into(),
        },
        api_base: Some(format!("http://{addr}")),
        login_base: Some(format!("http://{addr}")),
        staging: dir.join("staging"),
        poll_every: Duration::from_millis(50),
        max_tries: 5,
    }
}

use common::runtime as rt;

fn bronze_ids(lake_dir: &std::path::Path) -> Vec<String> {
    let mut ids: Vec<String> = common::bronze_lines(lake_dir)
        .iter()
        .map(|(_, line)| {
            let v: serde_json::Value = serde_json::from_slice(line).unwrap();
            v["conversationId"].as_str().unwrap().to_string()
        })
        .collect();
    ids.sort();
    ids
}

#[test]
fn pages_are_fetched_by_cursor_and_ingested_with_429_backoff() {
    let dir = tempfile::tempdir().unwrap();
    let rt = rt();
    let server = Shared::default();
    server.lock().unwrap().throttle_cursor = Some("c1".into());
    let addr = start(&rt, server.clone());
    let lake = Lake::open(dir.path().join("lake").to_str().unwrap()).unwrap();
    let opts = options(addr, dir.path(), "secret");
    let started = std::time::Instant::now();
    let s = rt
        .block_on(pull_genesys(&lake, &opts, &JobProgress::new()))
        .unwrap();
    assert_eq!(s.pages, PAGES as u32);
    assert_eq!(s.conversations, (PAGES * PER_PAGE) as u64);
    assert_eq!(s.bronze_records, (PAGES * PER_PAGE) as u64);
    assert_eq!(s.rate_limited_waits, 1);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited out Retry-After"
    );
    // Every conversation in Bronze exactly once, and each page is one ledger row.
    let ids = bronze_ids(&dir.path().join("lake"));
    assert_eq!(ids.len(), PAGES * PER_PAGE);
    ids.windows(2).for_each(|w| assert_ne!(w[0], w[1]));
    assert_eq!(common::ledger_rows(&dir.path().join("lake")).len(), PAGES);
    // The staging folder is cleaned up.
    assert!(common::walk(&dir.path().join("staging")).is_empty());
    // And the pages process into Silver like any Genesys export.
    let layers = common::process(&rt, &lake, cclake::silver::ProcessMode::Incremental);
    assert_eq!(layers.silver.rows_out, (PAGES * PER_PAGE) as u64);
}

#[test]
fn an_interrupted_pull_resumes_after_the_last_ingested_page() {
    let dir = tempfile::tempdir().unwrap();
    let rt = rt();
    let server = Shared::default();
    server.lock().unwrap().fail_cursor = Some("c2".into());
    let addr = start(&rt, server.clone());
    let lake = Lake::open(dir.path().join("lake").to_str().unwrap()).unwrap();
    let opts = options(addr, dir.path(), "secret");
    let err = rt
        .block_on(pull_genesys(&lake, &opts, &JobProgress::new()))
        .unwrap_err();
    assert!(matches!(err, PullError::Http { status: 500, .. }), "{err}");
    assert!(err.to_string().contains("result page 3"), "{err}");
    assert_eq!(bronze_ids(&dir.path().join("lake")).len(), 2 * PER_PAGE);

    // Genesys is back: the same pull continues with the same job from page 3.
    server.lock().unwrap().fail_cursor = None;
    let s = rt
        .block_on(pull_genesys(&lake, &opts, &JobProgress::new()))
        .unwrap();
    assert!(s.resumed);
    assert_eq!(s.pages, 1);
    let srv = server.lock().unwrap();
    assert_eq!(srv.jobs_created, 1, "the job was reused");
    assert_eq!(srv.page_requests[""], 1, "page 1 was not fetched again");
    assert_eq!(srv.page_requests["c1"], 1);
    drop(srv);
    let ids = bronze_ids(&dir.path().join("lake"));
    assert_eq!(ids.len(), PAGES * PER_PAGE);
    ids.windows(2).for_each(|w| assert_ne!(w[0], w[1]));

    // A crash after the last page was ingested but before the state said so: the state still
    // points at page 3. The page is fetched again, the ledger knows its bytes, nothing doubles.
    let state_dir = dir.path().join("lake/_connectors/genesys");
    let state_file = common::walk(&state_dir).pop().unwrap();
    let mut state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&state_file).unwrap()).unwrap();
    state["finished"] = json!(false);
    state["cursor"] = json!("c2");
    state["pages_done"] = json!(2);
    std::fs::write(&state_file, serde_json::to_vec(&state).unwrap()).unwrap();
    let s = rt
        .block_on(pull_genesys(&lake, &opts, &JobProgress::new()))
        .unwrap();
    assert_eq!(
        (s.pages, s.pages_already_ingested, s.bronze_records),
        (1, 1, 0)
    );
    assert_eq!(bronze_ids(&dir.path().join("lake")).len(), PAGES * PER_PAGE);
}

#[test]
fn bad_credentials_are_refused_in_words_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let rt = rt();
    let addr = start(&rt, Shared::default());
    let lake = Lake::open(dir.path().join("lake").to_str().unwrap()).unwrap();
    let opts = options(addr, dir.path(), "wrong");
    let err = rt
        .block_on(pull_genesys(&lake, &opts, &JobProgress::new()))
        .unwrap_err();
    let msg = err.to_string();
    assert!(
        matches!(err, PullError::Credentials { status: 401, .. }),
        "{msg}"
    );
    assert!(
        msg.contains("invalid_client") && msg.contains("GENESYS_CLIENT_ID"),
        "{msg}"
    );
    assert!(!msg.contains("wrong"), "the secret is never in a message");
    assert!(common::bronze_lines(&dir.path().join("lake")).is_empty());
    // An empty interval is refused before any request.
    let mut backwards = options(addr, dir.path(), "secret");
    backwards.to = backwards.from;
    let err = rt
        .block_on(pull_genesys(&lake, &backwards, &JobProgress::new()))
        .unwrap_err();
    assert!(err.to_string().contains("is not before"), "{err}");
}
