//! The leak scan: clean on a generated lake whose planted PII was masked; finds a raw card
//! number, a raw phone and an unkeyed SHA-256 of a phone planted in a copy of a Silver
//! partition; the CLI exits 1 on findings.

mod common;

use std::sync::Arc;

use arrow::array::{ArrayRef, Date32Array, StringArray};
use arrow::record_batch::RecordBatch;
use cclake::compliance::scan;
use cclake::lake::delta;
use cclake::pipeline::JobProgress;
use cclake::silver::table::CONTACTS_SCHEMA;
use sha2::Digest;

use common::runtime as rt;

#[test]
fn a_masked_lake_is_clean_and_planted_raw_pii_is_found() {
    let dir = tempfile::tempdir().unwrap();
    let rt = rt();
    let lake = common::demo_lake(&rt, dir.path(), 3, 120, 5);

    let report = rt.block_on(scan::scan(&lake, &JobProgress::new())).unwrap();
    assert!(report.clean(), "{:#?}", report.findings);
    assert!(report.values_scanned > 1000);
    assert!(report.bronze_phones > 50, "{}", report.bronze_phones);
    assert_eq!(report.tables.len(), 5);

    // Copy the first Silver partition to a new date with raw PII planted in it: a card number
    // in the notes, a raw phone, and the unkeyed SHA-256 of a phone that Bronze holds.
    let phone = "+13175550123";
    let re = regex::Regex::new(r#""phone_number":"(\+1\d{10})""#).unwrap();
    let bronze_phone = common::bronze_lines(&dir.path().join("lake"))
        .iter()
        .find_map(|(_, l)| {
            re.captures(&String::from_utf8_lossy(l))
                .map(|c| c[1].to_string())
        })
        .expect("a generic record with an E.164 phone");
    let unkeyed = hex::encode(sha2::Sha256::digest(bronze_phone.as_bytes()));
    let batch = rt.block_on(async {
        let ctx = cclake::query::session(&lake).await.unwrap();
        let r = cclake::query::run(
            &ctx,
            "SELECT * FROM silver_contacts WHERE date = DATE '2026-10-01'",
        )
        .await
        .unwrap();
        arrow::compute::concat_batches(&r.schema, &r.batches).unwrap()
    });
    let n = batch.num_rows();
    let planted_date = chrono::NaiveDate::from_ymd_opt(2027, 1, 1).unwrap();
    let columns: Vec<ArrayRef> = CONTACTS_SCHEMA
        .fields()
        .iter()
        .map(|f| {
            let col = batch.column_by_name(f.name()).unwrap();
            let text = |i: usize| {
                let a = delta::utf8_column(col).unwrap();
                use arrow::array::Array;
                (!a.is_null(i)).then(|| a.value(i).to_string())
            };
            match f.name().as_str() {
                "notes" => Arc::new(StringArray::from(
                    (0..n)
                        .map(|i| {
                            if i == 0 {
                                Some("customer read out card 4111 1111 1111 1111".to_string())
                            } else {
                                text(i)
                            }
                        })
                        .collect::<Vec<_>>(),
                )) as ArrayRef,
                "phone_number" => Arc::new(StringArray::from(
                    (0..n)
                        .map(|i| {
                            if i == 1 {
                                Some(phone.to_string())
                            } else {
                                text(i)
                            }
                        })
                        .collect::<Vec<_>>(),
                )),
                // An international number written in groups, as masking used to miss them.
                "_rescued_data" => Arc::new(StringArray::from(
                    (0..n)
                        .map(|i| {
                            if i == 3 {
                                Some(r#"{"abroad_contact":"+55 11 98456 5666"}"#.to_string())
                            } else {
                                text(i)
                            }
                        })
                        .collect::<Vec<_>>(),
                )),
                "member_id" => Arc::new(StringArray::from(
                    (0..n)
                        .map(|i| {
                            if i == 2 {
                                Some(unkeyed.clone())
                            } else {
                                text(i)
                            }
                        })
                        .collect::<Vec<_>>(),
                )),
                "date" => Arc::new(Date32Array::from(vec![
                    cclake::config::zone::days_since_epoch(
                        planted_date
                    );
                    n
                ])),
                _ => arrow::compute::cast(col, f.data_type()).unwrap(),
            }
        })
        .collect();
    let planted = RecordBatch::try_new(CONTACTS_SCHEMA.clone(), columns).unwrap();
    rt.block_on(async {
        let table = delta::open(&lake, delta::SILVER_CONTACTS).await.unwrap();
        delta::replace_dates(table, vec![planted], &[planted_date], Default::default())
            .await
            .unwrap();
    });

    let report = rt.block_on(scan::scan(&lake, &JobProgress::new())).unwrap();
    let kinds: Vec<(String, String, String)> = report
        .findings
        .iter()
        .map(|f| (f.column.clone(), f.partition.clone(), f.kind.clone()))
        .collect();
    assert!(
        kinds.contains(&("notes".into(), "2027-01-01".into(), "pan".into())),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&("phone_number".into(), "2027-01-01".into(), "phone".into())),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&("_rescued_data".into(), "2027-01-01".into(), "phone".into())),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&(
            "member_id".into(),
            "2027-01-01".into(),
            "unkeyed_sha256_phone".into()
        )),
        "{kinds:?}"
    );
    // Only the planted partition has findings; examples are masked.
    assert!(
        report.findings.iter().all(|f| f.partition == "2027-01-01"),
        "{:#?}",
        report.findings
    );
    assert!(
        report
            .findings
            .iter()
            .all(|f| !f.example.contains("1111 1111"))
    );

    // The CLI gates on it: exit 1 with findings.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_cclake"))
        .args(["scan", "--lake", dir.path().join("lake").to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("phone_number") && stdout.contains("pan"),
        "{stdout}"
    );
}
