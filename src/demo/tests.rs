use super::*;

fn small(out: &Path, seed: u64) -> GenerateSummary {
    let opts = GenerateOptions {
        out: out.to_path_buf(),
        days: 8,
        contacts_per_day: 300,
        seed,
        start: GenerateOptions::default_start(),
    };
    generate(&opts, &JobProgress::new()).unwrap()
}

#[test]
fn same_seed_same_bytes() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let sa = small(a.path(), 42);
    small(b.path(), 42);
    for files in sa.files.values() {
        for f in files {
            let (x, y) = (
                std::fs::read(a.path().join(f)).unwrap(),
                std::fs::read(b.path().join(f)).unwrap(),
            );
            assert!(x == y, "{f} differs between two runs with the same seed");
        }
    }
    let c = tempfile::tempdir().unwrap();
    let sc = small(c.path(), 43);
    assert_ne!(sa.planted_pii.phones, sc.planted_pii.phones);
}

#[test]
fn plants_every_trap() {
    let dir = tempfile::tempdir().unwrap();
    let s = small(dir.path(), 7);
    for role in [
        "genesys",
        "cxone",
        "connect",
        "connect_events",
        "generic",
        "late",
        "redelivered",
        "crm",
    ] {
        assert!(
            s.files.get(role).is_some_and(|f| !f.is_empty()),
            "no {role} files"
        );
    }
    assert!(s.counts.malformed_lines > 0 || s.counts.generic_contacts < 700);
    assert!(s.counts.late_contacts > 0 && s.counts.reexported_contacts > 0);
    assert!(!s.planted_pii.phones.is_empty() && !s.planted_pii.card_numbers.is_empty());
    assert!(s.incident.is_some());
    // The byte-identical re-delivery really is identical.
    let day = s.redelivered_day.format("%Y-%m-%d");
    let a = std::fs::read(
        dir.path()
            .join(format!("generic/contact_events_{day}.ndjson.gz")),
    )
    .unwrap();
    let b = std::fs::read(
        dir.path()
            .join(format!("redelivered/contact_events_{day}.ndjson.gz")),
    )
    .unwrap();
    assert_eq!(a, b);
    // The manifest is hidden from ingest.
    assert!(dir.path().join(MANIFEST).exists());
}
