//! The Gold API: answers match Gold, 401 without the token, 400 for bad input, 429 with
//! Retry-After over the rate limit (and recovery), and a real server on a socket.

mod common;

use std::net::SocketAddr;
use std::path::Path;

use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::http::{Request, StatusCode};
use cclake::api::{self, ApiConfig};
use cclake::lake::Lake;
use cclake::silver::ProcessMode;
use serde_json::Value;
use tower::ServiceExt;

const TOKEN: &str = "api-test-token-0123456789";

use common::runtime as rt;

/// A lake with Gold for two days and two queues.
fn lake_with_gold(dir: &Path, rt: &tokio::runtime::Runtime) -> Lake {
    let lake = Lake::open(dir.join("lake").to_str().unwrap()).unwrap();
    let mut lines = Vec::new();
    for day in 1..=2 {
        for i in 0..6 {
            let queue = if i % 2 == 0 { "Sales" } else { "Billing" };
            let status = if i % 3 == 0 { "Abandoned" } else { "Completed" };
            lines.push(format!(
                r#"{{"event_id":"d{day}-{i}","timestamp":"2026-09-0{day}T1{i}:00:00Z","queue_name":"{queue}","outcome_status":"{status}","wait_seconds":{},"duration_seconds":200}}"#,
                i * 7
            ));
        }
    }
    let f = dir.join("in.ndjson");
    std::fs::write(&f, lines.join("\n")).unwrap();
    common::ingest(&lake, &[f]);
    common::process(rt, &lake, ProcessMode::Incremental);
    lake
}

fn cfg(rate: u32, burst: u32) -> ApiConfig {
    ApiConfig {
        token: Some(TOKEN.into()),
        requests_per_second: rate,
        burst,
        ..Default::default()
    }
}

async fn get(
    router: &axum::Router,
    client: [u8; 4],
    uri: &str,
    token: Option<&str>,
) -> (StatusCode, axum::http::HeaderMap, Value) {
    // What a BI tool on this machine sends; other hosts are refused (DNS rebinding).
    let mut req = Request::builder().uri(uri).header("host", "127.0.0.1:8787");
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    let resp = router
        .clone()
        .layer(MockConnectInfo(SocketAddr::from((client, 40000))))
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = axum::body::to_bytes(resp.into_body(), 1 << 24)
        .await
        .unwrap();
    let json = serde_json::from_slice(&body)
        .unwrap_or(Value::String(String::from_utf8_lossy(&body).into_owned()));
    (status, headers, json)
}

#[test]
fn summary_answers_match_gold_and_bad_requests_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let rt = rt();
    let lake = lake_with_gold(dir.path(), &rt);
    let router = api::router(lake.clone(), &cfg(1000, 1000));
    rt.block_on(async {
        // The answer equals the Gold rows, read independently through SQL.
        let (s, _, body) = get(
            &router,
            [127, 0, 0, 1],
            "/api/v2/analytics/gold/summary?date=2026-09-01&granularity=daily",
            Some(TOKEN),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let ctx = cclake::query::session(&lake).await.unwrap();
        let expected = cclake::query::run(
            &ctx,
            "SELECT queue_id, total_contacts, answered_contacts, abandoned_contacts, service_level_pct
             FROM gold_daily_queue_metrics WHERE date = DATE '2026-09-01' ORDER BY queue_id",
        )
        .await
        .unwrap();
        let b = &expected.batches[0];
        let rows = body["rows"].as_array().unwrap();
        assert_eq!(rows.len(), b.num_rows());
        assert_eq!(body["count"], rows.len());
        for (i, row) in rows.iter().enumerate() {
            let q = cclake::lake::delta::utf8_column(b.column(0)).unwrap();
            assert_eq!(row["queue_id"], q.value(i));
            let total = arrow::compute::cast(b.column(1), &arrow::datatypes::DataType::Int64).unwrap();
            let total = total
                .as_any()
                .downcast_ref::<arrow::array::Int64Array>()
                .unwrap()
                .value(i);
            assert_eq!(row["total_contacts"], total);
            assert_eq!(row["date"], "2026-09-01");
            // Every column is present, nulls included.
            assert!(row.as_object().unwrap().contains_key("fcr_rate_pct"));
        }
        // One queue, hourly, and a range.
        let (s, _, body) = get(
            &router,
            [127, 0, 0, 1],
            "/api/v2/analytics/gold/summary?date=2026-09-02&granularity=hourly&queue_id=Sales",
            Some(TOKEN),
        )
        .await;
        assert_eq!(s, StatusCode::OK);
        let rows = body["rows"].as_array().unwrap();
        assert_eq!(rows.len(), 3, "{body}");
        assert!(rows.iter().all(|r| r["queue_id"] == "Sales" && r["hour"].is_number()));
        let (s, _, body) = get(
            &router,
            [127, 0, 0, 1],
            "/api/v2/analytics/gold/summary?from=2026-09-01&to=2026-09-02",
            Some(TOKEN),
        )
        .await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(body["count"], 4);
        let (s, _, body) = get(&router, [127, 0, 0, 1], "/api/v2/analytics/gold/queues", Some(TOKEN)).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(body["count"], 2, "{body}");

        // No token, a wrong token: 401.
        for token in [None, Some("wrong-token-0123456789")] {
            let (s, h, body) = get(
                &router,
                [127, 0, 0, 1],
                "/api/v2/analytics/gold/summary?date=2026-09-01",
                token,
            )
            .await;
            assert_eq!(s, StatusCode::UNAUTHORIZED);
            assert_eq!(h["www-authenticate"], "Bearer");
            assert!(body["error"].as_str().unwrap().contains("token"));
        }
        // Bad input: 400 with a JSON error that names the problem.
        for (uri, needle) in [
            ("/api/v2/analytics/gold/summary?date=2026-13-01", "not a date"),
            ("/api/v2/analytics/gold/summary?date=2026-09-01&granularity=weekly", "granularity"),
            ("/api/v2/analytics/gold/summary", "give date"),
            ("/api/v2/analytics/gold/summary?from=2026-09-02&to=2026-09-01", "after"),
            ("/api/v2/analytics/gold/summary?from=2024-01-01&to=2026-01-01", "longer than"),
        ] {
            let (s, _, body) = get(&router, [127, 0, 0, 1], uri, Some(TOKEN)).await;
            assert_eq!(s, StatusCode::BAD_REQUEST, "{uri}");
            assert!(body["error"].as_str().unwrap().contains(needle), "{uri}: {body}");
        }
        // A queue id is a value, not SQL.
        let (s, _, body) = get(
            &router,
            [127, 0, 0, 1],
            "/api/v2/analytics/gold/summary?date=2026-09-01&queue_id=x%27%20OR%20%271%27=%271",
            Some(TOKEN),
        )
        .await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(body["count"], 0);
    });
}

#[test]
fn a_burst_over_the_limit_gets_429_with_retry_after_and_the_limit_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let rt = rt();
    let lake = lake_with_gold(dir.path(), &rt);
    // 2 requests a second, bursts of 3.
    let router = api::router(lake, &cfg(2, 3));
    rt.block_on(async {
        let uri = "/api/v2/analytics/gold/summary?date=2026-09-01";
        let mut statuses = Vec::new();
        let mut retry_after = None;
        for _ in 0..6 {
            let (s, h, _) = get(&router, [10, 0, 0, 7], uri, Some(TOKEN)).await;
            if s == StatusCode::TOO_MANY_REQUESTS {
                retry_after = h.get("retry-after").cloned();
            }
            statuses.push(s);
        }
        assert_eq!(&statuses[..3], &[StatusCode::OK; 3]);
        assert!(
            statuses[3..].contains(&StatusCode::TOO_MANY_REQUESTS),
            "{statuses:?}"
        );
        let secs: u64 = retry_after
            .expect("Retry-After on 429")
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=2).contains(&secs));
        // Another client has its own bucket.
        let (s, _, _) = get(&router, [10, 0, 0, 8], uri, Some(TOKEN)).await;
        assert_eq!(s, StatusCode::OK);
        // After Retry-After the first client is served again.
        tokio::time::sleep(std::time::Duration::from_secs(secs)).await;
        let (s, _, _) = get(&router, [10, 0, 0, 7], uri, Some(TOKEN)).await;
        assert_eq!(s, StatusCode::OK);
    });
}

#[test]
fn the_server_runs_on_a_socket_and_refuses_a_public_address_without_a_token() {
    use std::io::{Read, Write};
    let dir = tempfile::tempdir().unwrap();
    let rt = rt();
    let lake = lake_with_gold(dir.path(), &rt);
    let public = ApiConfig {
        addr: "0.0.0.0:0".parse().unwrap(),
        token: None,
        ..Default::default()
    };
    let err = rt
        .block_on(api::serve(lake.clone(), public, async {}, |_| {}))
        .unwrap_err();
    assert!(err.to_string().contains("without a token"), "{err}");

    let (tx, rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let cfg = ApiConfig {
        addr: "127.0.0.1:0".parse().unwrap(),
        ..cfg(100, 100)
    };
    let server = rt.spawn(api::serve(
        lake,
        cfg,
        async {
            let _ = stop_rx.await;
        },
        move |a| {
            let _ = tx.send(a);
        },
    ));
    let addr = rx.recv_timeout(std::time::Duration::from_secs(10)).unwrap();
    let request = |path: &str, auth: bool| {
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        let auth = if auth {
            format!("Authorization: Bearer {TOKEN}\r\n")
        } else {
            String::new()
        };
        write!(
            s,
            "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}Connection: close\r\n\r\n"
        )
        .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        out
    };
    assert!(request("/healthz", false).starts_with("HTTP/1.1 200"));
    let ok = request("/api/v2/analytics/gold/summary?date=2026-09-01", true);
    assert!(ok.starts_with("HTTP/1.1 200"), "{ok}");
    assert!(ok.contains("\"total_contacts\""));
    let no = request("/api/v2/analytics/gold/summary?date=2026-09-01", false);
    assert!(no.starts_with("HTTP/1.1 401"), "{no}");
    let _ = stop_tx.send(());
    rt.block_on(server).unwrap().unwrap();
}

/// Starts a real server on loopback; returns its address and a stop handle.
fn start(
    rt: &tokio::runtime::Runtime,
    lake: Lake,
    cfg: ApiConfig,
) -> (
    SocketAddr,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<Result<(), api::ApiError>>,
) {
    let (tx, rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = rt.spawn(api::serve(
        lake,
        ApiConfig {
            addr: "127.0.0.1:0".parse().unwrap(),
            ..cfg
        },
        async {
            let _ = stop_rx.await;
        },
        move |a| {
            let _ = tx.send(a);
        },
    ));
    let addr = rx.recv_timeout(std::time::Duration::from_secs(10)).unwrap();
    (addr, stop_tx, server)
}

fn raw_request(addr: SocketAddr, text: &str) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.write_all(text.as_bytes()).unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out
}

#[test]
fn slow_headers_are_cut_off_and_the_connection_limit_holds() {
    use std::io::{Read, Write};
    use std::time::{Duration, Instant};
    let dir = tempfile::tempdir().unwrap();
    let rt = rt();
    let lake = lake_with_gold(dir.path(), &rt);
    let cfg = ApiConfig {
        header_timeout: Duration::from_secs(1),
        max_connections: 2,
        ..cfg(100, 100)
    };
    let (addr, stop, server) = start(&rt, lake, cfg);
    // A client that starts a request and never finishes its headers is disconnected.
    let mut slow = std::net::TcpStream::connect(addr).unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        .unwrap();
    slow.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let t = Instant::now();
    let mut buf = Vec::new();
    let _ = slow.read_to_end(&mut buf);
    let waited = t.elapsed();
    assert!(
        waited < Duration::from_secs(4),
        "disconnected after {waited:?}"
    );
    // Two connections held open fill the limit; a third is closed without an answer, and
    // once one of the two goes, a new one is served.
    let hold = |_: usize| {
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            .unwrap();
        s
    };
    let (a, _b) = (hold(0), hold(1));
    std::thread::sleep(Duration::from_millis(200));
    let refused = raw_request(
        addr,
        "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
    );
    assert!(refused.is_empty(), "{refused}");
    drop(a);
    std::thread::sleep(Duration::from_millis(1500));
    let ok = raw_request(
        addr,
        "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
    );
    assert!(ok.starts_with("HTTP/1.1 200"), "{ok}");
    let _ = stop.send(());
    rt.block_on(server).unwrap().unwrap();
}

#[test]
fn token_guessing_gets_429_other_hosts_are_refused_and_500s_say_nothing_inside() {
    let dir = tempfile::tempdir().unwrap();
    let rt = rt();
    let lake = lake_with_gold(dir.path(), &rt);
    let router = api::router(
        lake.clone(),
        &ApiConfig {
            max_rows: 3,
            ..cfg(5, 20)
        },
    );
    rt.block_on(async {
        // 200 guesses of the token from one client: 401 while the bucket lasts, then 429.
        let mut codes = std::collections::BTreeMap::new();
        for i in 0..200 {
            let (s, _, _) = get(
                &router,
                [10, 0, 0, 9],
                "/api/v2/analytics/gold/summary?date=2026-09-01",
                Some(&format!("guess-{i:04}-0123456789ab")),
            )
            .await;
            *codes.entry(s.as_u16()).or_insert(0) += 1;
        }
        assert!(codes[&429] >= 170, "{codes:?}");
        assert!(codes[&401] <= 30, "{codes:?}");
        // A name that rebinds to 127.0.0.1 is not served.
        let req = Request::builder()
            .uri("/healthz")
            .header("host", "attacker.example:8787")
            .body(Body::empty())
            .unwrap();
        let resp = router
            .clone()
            .layer(MockConnectInfo(SocketAddr::from(([127, 0, 0, 1], 5000))))
            .oneshot(req)
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::FORBIDDEN);
        // An answer over the row cap is refused in words.
        let (s, _, body) = get(
            &router,
            [10, 0, 0, 10],
            "/api/v2/analytics/gold/summary?from=2026-09-01&to=2026-09-02",
            Some(TOKEN),
        )
        .await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        assert!(
            body["error"].as_str().unwrap().contains("shorter range"),
            "{body}"
        );
    });
    // A Gold file gone from under the server: a 500 with an incident id, no paths.
    let gone = common::walk(&dir.path().join("lake/gold/daily_queue_metrics"))
        .into_iter()
        .find(|p| p.extension().is_some_and(|e| e == "parquet"))
        .unwrap();
    std::fs::remove_file(&gone).unwrap();
    rt.block_on(async {
        let (s, _, body) = get(
            &router,
            [10, 0, 0, 11],
            "/api/v2/analytics/gold/summary?date=2026-09-01",
            Some(TOKEN),
        )
        .await;
        assert_eq!(s, StatusCode::INTERNAL_SERVER_ERROR);
        let msg = body["error"].as_str().unwrap();
        assert!(msg.contains("incident"), "{msg}");
        assert!(!msg.contains("parquet") && !msg.contains('/'), "{msg}");
    });
}

/// One request from a chosen loopback address (127.0.0.2 is another client to the server).
fn request_from(
    rt: &tokio::runtime::Runtime,
    from: [u8; 4],
    addr: SocketAddr,
    text: &str,
) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    rt.block_on(async {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind(SocketAddr::from((from, 0))).unwrap();
        let mut s = socket.connect(addr).await.unwrap();
        s.write_all(text.as_bytes()).await.unwrap();
        let mut out = Vec::new();
        let _ =
            tokio::time::timeout(std::time::Duration::from_secs(10), s.read_to_end(&mut out)).await;
        String::from_utf8_lossy(&out).into_owned()
    })
}

#[test]
fn one_client_holding_slow_connections_cannot_starve_another() {
    use std::io::Write;
    use std::time::Duration;
    let dir = tempfile::tempdir().unwrap();
    let rt = rt();
    let lake = lake_with_gold(dir.path(), &rt);
    let cfg = ApiConfig {
        // Long enough that the slow connections are all still held while the other client asks.
        header_timeout: Duration::from_secs(20),
        ..cfg(100, 100)
    };
    assert!(cfg.max_connections_per_client < cfg.max_connections);
    let (addr, stop, server) = start(&rt, lake, cfg);
    // 64 connections from 127.0.0.1 that start a request and never finish its headers.
    let slow: Vec<std::net::TcpStream> = (0..64)
        .map(|_| {
            let mut s = std::net::TcpStream::connect(addr).unwrap();
            let _ = s.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ");
            s
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    // Another client (127.0.0.2) is served every time, with the scheme in lower case.
    for i in 0..30 {
        let answer = request_from(
            &rt,
            [127, 0, 0, 2],
            addr,
            &format!(
                "GET /api/v2/analytics/gold/summary?from=2026-09-01&to=2026-09-02 HTTP/1.1\r\n\
                 Host: 127.0.0.1\r\nauthorization: bearer {TOKEN}\r\nConnection: close\r\n\r\n"
            ),
        );
        assert!(answer.starts_with("HTTP/1.1 200"), "request {i}: {answer}");
    }
    drop(slow);
    let _ = stop.send(());
    rt.block_on(server).unwrap().unwrap();
}
