//! The evidence pack for an auditor: one self-contained HTML report (no external asset, no
//! script) of what the lake masks and what proves it, and a manifest with the report's SHA-256
//! and the Delta versions it describes, so the auditor can tell later whether the lake still is
//! what the report says.
//!
//! The report holds the policy in force and its version, the rule table with the last run's
//! counts, the last leak scan (time, coverage, findings), the policy history with reasons and
//! differences, the policy of every Silver partition, the key's fingerprint (never the key),
//! the audit log (rotations and data subject erasures) and the erasure receipts. Nothing in it
//! is a raw value: the view it is drawn from holds none.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use super::policy;
use super::scan::{self, ScanRecord};
use super::view::{self, ComplianceView};
use crate::lake::Lake;
use crate::lake::delta::{self, DELTA_TABLES};

#[derive(Debug, thiserror::Error)]
pub enum EvidenceError {
    #[error(transparent)]
    View(#[from] Box<view::ViewError>),
    #[error(transparent)]
    Lake(#[from] crate::lake::LakeError),
    #[error("Delta table {table}: {source}")]
    Delta {
        table: &'static str,
        source: deltalake::DeltaTableError,
    },
    #[error("writing {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// A built pack: the report, and what its manifest says.
pub struct EvidencePack {
    pub html: String,
    pub generated_at: DateTime<Utc>,
    /// Each Delta table and the version the report describes.
    pub versions: Vec<(String, Option<u64>)>,
    pub policy_version: String,
}

impl EvidencePack {
    /// The SHA-256 of the report, hex.
    pub fn sha256(&self) -> String {
        hex::encode(Sha256::digest(self.html.as_bytes()))
    }

    /// The manifest: the report's checksum (in `sha256sum` form) and the versions it describes.
    pub fn manifest(&self, report_name: &str) -> String {
        let mut m = format!("{}  {report_name}\n", self.sha256());
        let _ = writeln!(m, "# generated {}", self.generated_at.to_rfc3339());
        let _ = writeln!(m, "# masking policy version {}", self.policy_version);
        for (t, v) in &self.versions {
            let v = v.map_or("not built".to_string(), |v| format!("version {v}"));
            let _ = writeln!(m, "# delta {t} {v}");
        }
        m
    }

    /// Writes `evidence-<time>.html` and `evidence-<time>.sha256` into `dir`; returns the
    /// report's path.
    pub fn write(&self, dir: &Path) -> Result<PathBuf, EvidenceError> {
        let err = |path: &Path| {
            let path = path.to_path_buf();
            move |source| EvidenceError::Write { path, source }
        };
        std::fs::create_dir_all(dir).map_err(err(dir))?;
        let stem = format!("evidence-{}", self.generated_at.format("%Y%m%dT%H%M%SZ"));
        let report = dir.join(format!("{stem}.html"));
        std::fs::write(&report, &self.html).map_err(err(&report))?;
        let manifest = dir.join(format!("{stem}.sha256"));
        let name = format!("{stem}.html");
        std::fs::write(&manifest, self.manifest(&name)).map_err(err(&manifest))?;
        Ok(report)
    }
}

/// Builds the pack from the lake as it is now.
pub async fn build(lake: &Lake) -> Result<EvidencePack, EvidenceError> {
    let view = view::load(lake).await.map_err(Box::new)?;
    let scan = scan::last(lake).await?;
    let mut versions = Vec::new();
    for table in DELTA_TABLES {
        let t = delta::open(lake, table)
            .await
            .map_err(|source| EvidenceError::Delta { table, source })?;
        versions.push((table.to_string(), t.version()));
    }
    let generated_at = Utc::now();
    let html = render(lake, &view, scan.as_ref(), &versions, generated_at);
    Ok(EvidencePack {
        html,
        generated_at,
        versions,
        policy_version: view.current_version.clone(),
    })
}

/// An audit entry's details as `key: value` pairs that wrap like text.
fn readable(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Object(m) => (m.iter())
            .map(|(k, v)| format!("{k}: {}", readable(v)))
            .collect::<Vec<_>>()
            .join("; "),
        serde_json::Value::Array(a) => a.iter().map(readable).collect::<Vec<_>>().join(", "),
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A setting as the policy file spells it.
fn word<T: serde::Serialize + std::fmt::Debug>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        _ => format!("{v:?}"),
    }
}

/// Text made safe for HTML.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

const STYLE: &str = "body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:70em;color:#1d2430}\
h1{font-size:1.6em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ccd}\
table{border-collapse:collapse;margin:.5em 0;max-width:100%}td,th{border:1px solid #ccd;padding:.25em .6em;text-align:left;vertical-align:top;overflow-wrap:break-word}\
th{background:#eef1f6}code,pre{font:12px ui-monospace,monospace}pre{background:#f6f7f9;padding:.6em;overflow:auto}\
.ok{color:#17702e;font-weight:600}.bad{color:#a61b1b;font-weight:600}.add{color:#17702e}.del{color:#a61b1b}";

fn table(out: &mut String, headers: &[&str], rows: Vec<Vec<String>>) {
    out.push_str("<table><tr>");
    for h in headers {
        let _ = write!(out, "<th>{}</th>", esc(h));
    }
    out.push_str("</tr>");
    for r in rows {
        out.push_str("<tr>");
        for c in r {
            let _ = write!(out, "<td>{}</td>", esc(&c));
        }
        out.push_str("</tr>");
    }
    out.push_str("</table>");
}

fn render(
    lake: &Lake,
    view: &ComplianceView,
    scan: Option<&ScanRecord>,
    versions: &[(String, Option<u64>)],
    at: DateTime<Utc>,
) -> String {
    let mut o = String::new();
    let _ = write!(
        o,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>cclake evidence pack</title><style>{STYLE}</style></head><body>"
    );
    let _ = write!(
        o,
        "<h1>Masking evidence for {}</h1><p>Generated {} by cclake {}. Every value below is a setting, a count, a keyed hash or a masked example; the lake's raw values are not in this report.</p>",
        esc(lake.location()),
        at.format("%Y-%m-%d %H:%M:%S UTC"),
        env!("CARGO_PKG_VERSION")
    );
    policy_section(&mut o, view);
    scan_section(&mut o, scan);
    history_section(&mut o, view);
    partitions_section(&mut o, view);
    key_section(&mut o, view);
    audit_section(&mut o, view);
    o.push_str("<h2>Delta versions described</h2>");
    let rows = (versions.iter())
        .map(|(t, v)| vec![t.clone(), v.map_or("not built".into(), |v| v.to_string())])
        .collect();
    table(&mut o, &["table", "version"], rows);
    o.push_str("<p>The manifest beside this file holds its SHA-256 and these versions.</p></body></html>\n");
    o
}

fn policy_section(o: &mut String, view: &ComplianceView) {
    let f = &view.file;
    let _ = write!(
        o,
        "<h2>Masking policy in force</h2><p>Version <code>{}</code>; masking {}; preset {}; default phone region {}.</p>",
        esc(&view.current_version),
        if f.enabled {
            "enabled"
        } else {
            "<span class=\"bad\">disabled</span>"
        },
        esc(&f.preset),
        esc(&f.default_region)
    );
    let rows = (f.columns.iter())
        .map(|(col, rule)| {
            let n = view.counts.get(col).copied().unwrap_or_default();
            vec![
                col.clone(),
                word(&rule.detector),
                word(&rule.action),
                word(&rule.unvalidated),
                n.masked.to_string(),
                n.unvalidated_kept.to_string(),
                n.unvalidated_redacted.to_string(),
                n.spans_scrubbed.to_string(),
            ]
        })
        .collect();
    let headers = [
        "column",
        "detector",
        "action",
        "unvalidated values",
        "last run: masked",
        "unvalidated kept",
        "unvalidated redacted",
        "spans scrubbed",
    ];
    table(o, &headers, rows);
    let _ = write!(
        o,
        "<p>Counts from the last Silver run (policy <code>{}</code>).</p>",
        esc(&view.counts_version)
    );
}

fn scan_section(o: &mut String, scan: Option<&ScanRecord>) {
    o.push_str("<h2>Leak scan</h2>");
    let Some(s) = scan else {
        o.push_str("<p class=\"bad\">No leak scan has been recorded on this lake: run <code>cclake scan</code> (or Leak scan in the app) and export again.</p>");
        return;
    };
    let r = &s.report;
    let verdict = match r.findings.is_empty() {
        true => "<span class=\"ok\">no raw PII found</span>".to_string(),
        false => format!("<span class=\"bad\">{} findings</span>", r.findings.len()),
    };
    let _ = write!(
        o,
        "<p>Last scan {}: {verdict}. {} values in {} columns of {} tables scanned, against {} phone numbers from Bronze. Not scanned (lineage): {}.</p>",
        s.at.format("%Y-%m-%d %H:%M:%S UTC"),
        r.values_scanned,
        r.columns_scanned,
        r.tables.len(),
        r.bronze_phones,
        esc(&r.not_scanned.join(", "))
    );
    let v: Vec<String> = (s.versions.iter())
        .map(|(t, v)| format!("{t} v{}", v.map_or("-".into(), |v| v.to_string())))
        .collect();
    let _ = write!(o, "<p>Tables as scanned: {}.</p>", esc(&v.join(", ")));
    if !r.findings.is_empty() {
        let rows = (r.findings.iter())
            .map(|f| {
                let cells = [&f.table, &f.column, &f.partition, &f.kind];
                let mut row: Vec<String> = cells.iter().map(|c| c.to_string()).collect();
                row.push(f.count.to_string());
                row.push(f.example.clone());
                row
            })
            .collect();
        let headers = [
            "table",
            "column",
            "partition",
            "kind",
            "count",
            "example (masked)",
        ];
        table(o, &headers, rows);
    }
}

fn history_section(o: &mut String, view: &ComplianceView) {
    o.push_str("<h2>Policy history</h2>");
    if view.history.is_empty() {
        o.push_str("<p>The policy has not been changed since the lake was created.</p>");
        return;
    }
    let rows = (view.history.iter())
        .map(|h| {
            let at = h.saved_at.format("%Y-%m-%d %H:%M:%S UTC").to_string();
            vec![h.version.clone(), at, h.reason.clone()]
        })
        .collect();
    table(o, &["version", "saved", "reason"], rows);
    for pair in view.history.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        let _ = write!(
            o,
            "<p>From <code>{}</code> to <code>{}</code> ({}):</p><pre>",
            esc(&a.version[..12.min(a.version.len())]),
            esc(&b.version[..12.min(b.version.len())]),
            esc(&b.reason)
        );
        for line in policy::diff(&a.text, &b.text) {
            let class = if line.starts_with('+') { "add" } else { "del" };
            let _ = writeln!(o, "<span class=\"{class}\">{}</span>", esc(&line));
        }
        o.push_str("</pre>");
    }
}

fn partitions_section(o: &mut String, view: &ComplianceView) {
    o.push_str("<h2>Policy of every Silver partition</h2>");
    let rows = (view.partitions.iter())
        .map(|p| {
            let written = view.written.get(&p.date).cloned().unwrap_or_default();
            vec![
                p.date.clone(),
                p.policy_version.clone(),
                p.rows.to_string(),
                written,
            ]
        })
        .collect();
    table(o, &["date", "policy version", "rows", "written"], rows);
}

fn key_section(o: &mut String, view: &ComplianceView) {
    o.push_str("<h2>HMAC key</h2>");
    match &view.key {
        Some(k) => {
            let _ = write!(
                o,
                "<p>Silver is masked with the key of fingerprint <code>{}</code>, recorded {} from {}. The fingerprint identifies the key without revealing it.</p>",
                esc(&k.fingerprint),
                k.recorded_at.format("%Y-%m-%d %H:%M:%S UTC"),
                esc(&k.source)
            );
            if let Some(r) = &k.rotation {
                let _ = write!(
                    o,
                    "<p class=\"bad\">A rotation to <code>{}</code> is under way since {} ({}).</p>",
                    esc(&r.to_fingerprint),
                    r.started_at.format("%Y-%m-%d %H:%M UTC"),
                    esc(&r.reason)
                );
            }
        }
        None => o.push_str("<p>No key recorded yet (Silver has not been built).</p>"),
    }
}

fn audit_section(o: &mut String, view: &ComplianceView) {
    o.push_str("<h2>Audit log: key rotations and data subject erasures</h2>");
    if view.audit.is_empty() {
        o.push_str("<p>No entry.</p>");
    } else {
        let rows = (view.audit.iter())
            .map(|e| {
                let at = e.at.format("%Y-%m-%d %H:%M:%S UTC").to_string();
                vec![at, e.action.clone(), e.reason.clone(), readable(&e.details)]
            })
            .collect();
        table(o, &["when", "action", "reason", "details"], rows);
    }
    if !view.erasures.is_empty() {
        o.push_str("<h2>Erasure receipts</h2>");
        let rows = (view.erasures.iter())
            .map(|e| {
                vec![
                    e.id.clone(),
                    e.reason.clone(),
                    e.started_at.format("%Y-%m-%d %H:%M UTC").to_string(),
                    e.finished_at.map_or("UNFINISHED".into(), |t| {
                        t.format("%Y-%m-%d %H:%M UTC").to_string()
                    }),
                    // Shortened to fit; the audit entry above holds them whole.
                    (e.subject.iter())
                        .map(|k| format!("{}…", &k[..k.len().min(30)]))
                        .collect::<Vec<_>>()
                        .join(", "),
                    e.bronze_lines_removed.to_string(),
                    e.silver_rows_removed.to_string(),
                ]
            })
            .collect();
        let headers = [
            "erasure",
            "reason",
            "started",
            "finished",
            "subject (keyed)",
            "Bronze lines removed",
            "Silver rows removed",
        ];
        table(o, &headers, rows);
    }
}
