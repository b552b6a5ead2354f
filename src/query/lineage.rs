//! Lineage queries: from a raw Bronze line to the Silver row built from it, and back.

/// The identifiers a raw record names its contact by, in the order they are tried (Genesys
/// Cloud, Amazon Connect, NICE CXone and the generic shape).
const ID_KEYS: [&str; 5] = [
    "conversationId",
    "ContactId",
    "contactId",
    "contact_id",
    "event_id",
];

fn quote(s: &str) -> String {
    s.replace('\'', "''")
}

/// The query for the Silver row(s) built from a raw Bronze line, by the contact id the line
/// names (none when it names none).
pub fn silver_rows_of_line(raw: &str) -> Option<String> {
    let raw: serde_json::Value = serde_json::from_str(raw).ok()?;
    let id = ID_KEYS.iter().find_map(|k| raw.get(*k))?;
    let id = id
        .as_str()
        .map(String::from)
        .unwrap_or_else(|| id.to_string());
    Some(format!(
        "SELECT * FROM silver_contacts WHERE contact_id = '{}'",
        quote(&id)
    ))
}

/// The query for the raw line of a Bronze file a Silver row was built from.
pub fn bronze_line_of_row(bronze_file: &str, contact_id: &str) -> Option<String> {
    if bronze_file.is_empty() {
        return None;
    }
    Some(format!(
        "SELECT bronze_file, line, raw FROM bronze_contacts WHERE bronze_file = '{}' AND raw LIKE '%{}%'",
        quote(bronze_file),
        quote(contact_id).replace('%', "")
    ))
}

/// The query for the Silver contacts behind a Gold number: one queue on one reporting-zone
/// day, or one hour of it, with the columns that explain its KPIs (abandoned first, then by
/// time). A contact's `_bronze_file` leads on to its raw line.
pub fn contacts_behind(queue_id: &str, day: chrono::NaiveDate, hour: Option<u32>) -> String {
    let queue = match queue_id {
        "" => "queue_id IS NULL".to_string(),
        q => format!("queue_id = '{}'", quote(q)),
    };
    let hour = hour.map_or(String::new(), |h| {
        format!(" AND cclake_local_hour(occurred_at) = {h}")
    });
    format!(
        "SELECT cclake_local_hour(occurred_at) AS hour, occurred_at, source_system, contact_id,
       abandoned, answered, wait_seconds, talk_seconds, hold_seconds, acw_seconds,
       duration_seconds AS handle_seconds, outcome_status, csat_score, customer_key,
       queue_name, _bronze_file
FROM silver_contacts
WHERE {queue} AND cclake_local_date(occurred_at) = DATE '{day}'{hour}
ORDER BY abandoned DESC, occurred_at"
    )
}
