//! The evidence pack: built from a processed and scanned lake with `cclake evidence`, it holds
//! the policy version, the rule counts, the scan's verdict, the key's fingerprint and no raw
//! value; its manifest's checksum is the report's; and it opens in a real headless browser
//! (Debian's chromium), whose screenshot is a page, not an error.

mod common;

use sha2::{Digest, Sha256};

#[test]
fn the_evidence_pack_holds_the_policy_and_scan_and_opens_in_a_browser() {
    let dir = tempfile::tempdir().unwrap();
    let rt = common::runtime();
    let lake = common::demo_lake(&rt, dir.path(), 2, 40, 3);
    let root = dir.path().join("lake");
    let (ok, out, err) = common::cclake_on(&root, &["scan"]);
    assert!(ok && out.contains("no raw PII found"), "{out}{err}");
    let pack_dir = dir.path().join("pack");
    let (ok, out, err) =
        common::cclake_on(&root, &["evidence", "--out", pack_dir.to_str().unwrap()]);
    assert!(ok, "{out}{err}");

    let files: Vec<_> = common::walk(&pack_dir);
    let report = files
        .iter()
        .find(|p| p.extension().is_some_and(|e| e == "html"))
        .unwrap();
    let manifest = files
        .iter()
        .find(|p| p.extension().is_some_and(|e| e == "sha256"))
        .unwrap();
    let html = std::fs::read_to_string(report).unwrap();
    let view = rt.block_on(cclake::compliance::view::load(&lake)).unwrap();
    assert!(html.contains(&view.current_version), "the policy version");
    assert!(html.contains("no raw PII found"), "the scan's verdict");
    assert!(
        html.contains(&common::key().fingerprint()),
        "the key's fingerprint"
    );
    assert!(!html.contains(common::KEY), "never the key");
    assert!(
        html.contains("phone_number") && html.contains("hash"),
        "the rule table"
    );
    assert!(
        !html.contains("src=") && !html.contains("<script") && !html.contains("href=\"http"),
        "self-contained"
    );
    // No raw phone of Bronze is in it.
    for (_, line) in common::bronze_lines(&root).iter().take(200) {
        let v: serde_json::Value = serde_json::from_slice(line).unwrap();
        for key in ["phone_number", "ani", "fromAddr"] {
            if let Some(p) = v.get(key).and_then(|p| p.as_str()) {
                assert!(!html.contains(p), "raw phone {p} in the report");
            }
        }
    }
    // The manifest checks the report, `sha256sum -c` style, and names the Delta versions.
    let m = std::fs::read_to_string(manifest).unwrap();
    let sum = hex::encode(Sha256::digest(html.as_bytes()));
    let name = report.file_name().unwrap().to_string_lossy();
    assert!(m.starts_with(&format!("{sum}  {name}\n")), "{m}");
    assert!(m.contains("# delta silver/contacts version"), "{m}");

    // A real browser renders it.
    let Some(chromium) = ["chromium", "chromium-browser"].iter().find(|b| {
        std::process::Command::new(b)
            .arg("--version")
            .output()
            .is_ok()
    }) else {
        assert!(
            std::env::var("CCLAKE_REQUIRE_SERVERS").is_err(),
            "chromium is not installed, and CI requires it (bash .ci/run installs it)"
        );
        eprintln!("skipped the browser check: chromium is not installed");
        return;
    };
    let shot = dir.path().join("evidence.png");
    let status = std::process::Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--window-size=1280,1800",
        ])
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("file://{}", report.display()))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    // A rendered report is a large, varied image; chromium's error page is a small, blank one.
    let png = std::fs::read(&shot).unwrap();
    assert!(
        png.len() > 60_000,
        "the screenshot is {} bytes: the page did not render",
        png.len()
    );
}
