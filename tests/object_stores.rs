//! Every command on a lake in real object storage: an `s3://` lake on moto's S3 server and an
//! `az://` lake on Azurite, each started by the test. The results equal those of a local lake
//! built from the same exports; create-only writes are refused a second time by the server;
//! lifecycle moves cold Bronze to an S3 cold store; the Gold API serves the S3 lake.

mod common;
#[path = "common/remote.rs"]
mod remote;
#[path = "common/servers.rs"]
mod servers;

use std::path::Path;

use remote::{assert_same, cli, ok, tables};
use servers::{Azurite, Moto};

/// Ingests, processes, queries and scans the lake at `url`; its tables equal the local run's.
fn the_pipeline_on(
    url: &str,
    env: &[(&'static str, String)],
    dir: &Path,
    exports: &Path,
    local: &[Vec<String>],
) {
    let ex = exports.to_str().unwrap();
    let out = ok(url, env, &["ingest", "--quiet", ex]);
    assert!(out.contains("0 failed"), "{out}");
    let again = ok(url, env, &["ingest", "--quiet", ex]);
    assert!(again.contains("already ingested"), "{again}");
    ok(url, env, &["process"]);
    let status = ok(url, env, &["status"]);
    assert!(
        !status.contains("DOES NOT ADD UP") && status.contains("silver/contacts"),
        "{status}"
    );
    let scan = ok(url, env, &["scan"]);
    assert!(scan.contains("no raw PII found"), "{scan}");
    let tag = url.split("://").next().unwrap();
    let here = tables(url, env, dir, tag);
    assert_same(&here, local, url);
    // A person is found there too.
    let found = ok(url, env, &["subject", "find", "--phone", "+18005550142"]);
    assert!(found.contains("Bronze:"), "{found}");
}

fn local_tables(dir: &Path, exports: &Path) -> Vec<Vec<String>> {
    let local = dir.join("local");
    let l = local.to_str().unwrap();
    common::cclake_on(&local, &["ingest", "--quiet", exports.to_str().unwrap()]);
    let (done, _, err) = common::cclake_on(&local, &["process"]);
    assert!(done, "{err}");
    tables(l, &[], dir, "local")
}

#[test]
fn every_command_on_an_s3_lake_served_by_moto() {
    let Some(moto) = Moto::start() else { return };
    moto.bucket("contact-lake");
    let dir = tempfile::tempdir().unwrap();
    let exports = dir.path().join("exports");
    common::generate(&exports, 3, 60, 21);
    let local = local_tables(dir.path(), &exports);
    let env = moto.env();
    let url = "s3://contact-lake/cc";
    the_pipeline_on(url, &env, dir.path(), &exports, &local);

    // Create-only is honoured by the server: a second create of the same object fails, so
    // two writers cannot both write one Bronze file or one Delta version.
    let (ok_again, _, err) = cli(url, &env, &["query", "SELECT 1"]);
    assert!(ok_again, "{err}");
    let rt = common::runtime();
    rt.block_on(async {
        let store = object_store::aws::AmazonS3Builder::new()
            .with_endpoint(moto.endpoint())
            .with_allow_http(true)
            .with_bucket_name("contact-lake")
            .with_region("us-east-1")
            .with_access_key_id("testing")
            .with_secret_access_key("testing")
            .build()
            .unwrap();
        use object_store::{ObjectStore, PutMode, PutOptions};
        let p = object_store::path::Path::from("cc/_probe/create-only");
        let opts = || PutOptions {
            mode: PutMode::Create,
            ..Default::default()
        };
        store.put_opts(&p, "one".into(), opts()).await.unwrap();
        let second = store.put_opts(&p, "two".into(), opts()).await;
        assert!(
            matches!(second, Err(object_store::Error::AlreadyExists { .. })),
            "{second:?}"
        );
    });

    // Lifecycle moves the first day's Bronze to the S3 cold store beside the lake.
    let plan = ok(url, &env, &["lifecycle", "--now", "2026-12-31", "--apply"]);
    assert!(plan.contains("s3://contact-lake/cc-cold"), "{plan}");
    let status = ok(url, &env, &["status"]);
    assert!(!status.contains("missing"), "{status}");
    let count = ok(
        url,
        &env,
        &["query", "SELECT count(*) AS n FROM bronze_contacts"],
    );
    let local_count = common::cclake_on(
        &dir.path().join("local"),
        &["query", "SELECT count(*) AS n FROM bronze_contacts"],
    )
    .1;
    assert_eq!(
        count, local_count,
        "Bronze still reads whole, cold hours included"
    );

    // The Gold API serves the S3 lake.
    let port = servers::free_port();
    let addr = format!("127.0.0.1:{port}");
    let mut serve = std::process::Command::new(env!("CARGO_BIN_EXE_cclake"))
        .args(["--lake", url, "serve", "--addr", &addr])
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .env("CCLAKE_API_TOKEN", "s3-token-0123456789")
        .env_remove("CCLAKE_LAKE")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let body = rt.block_on(async {
        let client = reqwest::Client::new();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let r = client
                .get(format!(
                    "http://{addr}/api/v2/analytics/gold/summary?from=2026-10-01&to=2026-10-03"
                ))
                .bearer_auth("s3-token-0123456789")
                .send()
                .await;
            if let Ok(r) = r {
                assert_eq!(r.status(), 200);
                break r.text().await.unwrap();
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the API did not start"
            );
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    });
    let _ = serve.kill();
    let _ = serve.wait();
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert!(v["count"].as_u64().unwrap() > 0 && v["rows"][0]["total_contacts"].is_number());
}

#[test]
fn every_command_on_an_azure_lake_served_by_azurite() {
    let dir = tempfile::tempdir().unwrap();
    let Some(azurite) = Azurite::start(dir.path()) else {
        return;
    };
    azurite.container("contact-lake");
    let exports = dir.path().join("exports");
    common::generate(&exports, 2, 50, 22);
    let local = local_tables(dir.path(), &exports);
    the_pipeline_on(
        "az://contact-lake/cc",
        &azurite.env(),
        dir.path(),
        &exports,
        &local,
    );
}
