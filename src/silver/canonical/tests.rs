use super::*;
use chrono::TimeZone;

fn map(shape: Shape, json: &str) -> (CanonicalRow<'_>, DriftCollector) {
    let obj = Record::parse(json.as_bytes()).unwrap();
    let mut drift = DriftCollector::default();
    let at = Utc.with_ymd_and_hms(2026, 9, 1, 10, 0, 0).unwrap();
    let row = map_record(shape, obj, at, &SchemaConfig::default(), &mut drift);
    (row, drift)
}

fn kinds(d: &DriftCollector) -> Vec<(String, &'static str)> {
    let mut v: Vec<_> = d
        .seen
        .keys()
        .map(|(_, f, k)| (f.clone(), k.as_str()))
        .collect();
    v.sort();
    v
}

#[test]
fn genesys_conversation_details() {
    let json = r#"{
      "conversationId": "c-1", "conversationStart": "2026-09-01T10:00:00.000Z",
      "conversationEnd": "2026-09-01T10:09:30.000Z", "originatingDirection": "inbound",
      "divisionIds": ["d1"],
      "participants": [
        {"purpose": "customer", "attributes": {"SurveyCSATScore": "4", "MemberId": "MBR123456789"},
         "sessions": [{"mediaType": "voice", "ani": "tel:+13175550123", "segments": []}]},
        {"purpose": "ivr", "sessions": [{"segments": [{"queueId": "not-this-one"}]}]},
        {"purpose": "acd", "participantName": "Claims",
         "sessions": [{"segments": [{"segmentType": "interact", "queueId": "q-claims"}],
                       "metrics": [{"name": "nOffered", "value": 1}, {"name": "tAnswered", "value": 42500}]}]},
        {"purpose": "agent", "userId": "u-7",
         "sessions": [{"segments": [{"segmentType": "interact"},
                                     {"segmentType": "wrapup", "wrapUpCode": "Claim Status", "wrapUpNote": "All good"}],
                       "metrics": [{"name": "tTalk", "value": 300000}, {"name": "tHeld", "value": 20000},
                                   {"name": "tAcw", "value": 45000}, {"name": "tHandle", "value": 365000}]}]}
      ]}"#;
    let (r, d) = map(Shape::Genesys, json);
    assert_eq!(r.event_id.as_deref(), Some("c-1"));
    assert_eq!(r.contact_id.as_deref(), Some("c-1"));
    assert_eq!(
        r.ended_at,
        Some(Utc.with_ymd_and_hms(2026, 9, 1, 10, 9, 30).unwrap())
    );
    assert_eq!(r.direction.as_deref(), Some("inbound"));
    assert_eq!(r.queue_id.as_deref(), Some("q-claims"));
    assert_eq!(r.queue_name.as_deref(), Some("Claims"));
    assert_eq!(r.agent_id.as_deref(), Some("u-7"));
    assert_eq!(r.media_type.as_deref(), Some("voice"));
    assert_eq!(r.phone_number.as_deref(), Some("+13175550123"));
    assert_eq!((r.answered, r.abandoned), (Some(true), Some(false)));
    assert_eq!(r.wait_seconds, Some(42.5));
    assert_eq!(
        (r.talk_seconds, r.hold_seconds, r.acw_seconds),
        (Some(300.0), Some(20.0), Some(45.0))
    );
    assert_eq!(r.duration_seconds, Some(365.0));
    assert_eq!(r.wrap_up_code.as_deref(), Some("Claim Status"));
    assert_eq!(r.notes.as_deref(), Some("All good"));
    assert_eq!(r.csat_score, Some(4.0));
    assert_eq!(r.member_id.as_deref(), Some("MBR123456789"));
    assert_eq!(r.outcome_status, Some("handled"));
    // A field Genesys documents is rescued, and opens no drift.
    assert_eq!(r.rescued.keys().collect::<Vec<_>>(), vec!["divisionIds"]);
    assert_eq!(kinds(&d), vec![]);

    // Abandoned, anonymous, no agent: no handle time, no phone.
    let json = r#"{"conversationId": "c-2", "conversationStart": "2026-09-01T10:00:00Z", "conversationEnd": "2026-09-01T10:01:00Z",
      "originatingDirection": "inbound", "participants": [
        {"purpose": "customer", "sessions": [{"mediaType": "voice", "ani": "tel:anonymous"}]},
        {"purpose": "acd", "participantName": "Claims", "sessions": [{"segments": [{"queueId": "q"}], "metrics": [{"name": "tAbandon", "value": 3000}]}]}]}"#;
    let (r, _) = map(Shape::Genesys, json);
    assert_eq!(r.phone_number, None);
    assert_eq!(
        (r.answered, r.abandoned, r.wait_seconds),
        (Some(false), Some(true), Some(3.0))
    );
    assert_eq!((r.talk_seconds, r.duration_seconds), (None, None));
    assert_eq!(r.outcome_status, Some("abandoned"));
}

#[test]
fn genesys_customer_numbers_outbound_callback_and_messaging() {
    // Outbound: the customer's session dials out; `ani` is the contact center's number.
    let json = r#"{"conversationId": "o-1", "conversationStart": "2026-09-01T10:00:00Z", "originatingDirection": "outbound",
      "participants": [{"purpose": "external", "sessions": [{"mediaType": "voice", "direction": "outbound",
        "ani": "tel:+18005550142", "dnis": "tel:+13175550123"}]}]}"#;
    let (r, _) = map(Shape::Genesys, json);
    assert_eq!(r.phone_number.as_deref(), Some("+13175550123"));
    assert_eq!(r.direction.as_deref(), Some("outbound"));
    // A callback session without an ani: the number to call back.
    let json = r#"{"conversationId": "c-1", "conversationStart": "2026-09-01T10:00:00Z",
      "participants": [{"purpose": "customer", "sessions": [{"mediaType": "callback",
        "callbackNumbers": ["sip:+13175550124@10.0.0.1;user=phone"]}]}]}"#;
    let (r, _) = map(Shape::Genesys, json);
    assert_eq!(
        (r.media_type.as_deref(), r.phone_number.as_deref()),
        (Some("callback"), Some("+13175550124"))
    );
    // Web messaging: a UUID address, no number; a SIP user name is no number either.
    for session in [
        r#"{"mediaType": "message", "addressFrom": "8e2b7f90-1c3d-4e5f-a6b7-c8d9e0f1a2b3"}"#,
        r#"{"mediaType": "voice", "ani": "sip:jane.doe@example.com"}"#,
        r#"{"mediaType": "voice", "ani": "tel:anonymous"}"#,
    ] {
        let json = format!(
            r#"{{"conversationId": "m-1", "conversationStart": "2026-09-01T10:00:00Z", "participants": [{{"purpose": "customer", "sessions": [{session}]}}]}}"#
        );
        let (r, _) = map(Shape::Genesys, &json);
        assert_eq!(r.phone_number, None, "{session}");
    }
}

#[test]
fn cxone_completed_contacts_with_strings_and_renamed_fields() {
    let json = r#"{"contactId": "6420001", "masterContactId": "6420001", "contactStartDate": "2026-09-01T10:00:00.000Z",
      "skillId": "4101", "skillName": "Card Services", "agentId": "5123", "mediaTypeName": "Call", "isOutbound": "False",
      "fromAddress": "3175550123", "abandoned": "False", "inQueueSeconds": "45", "agentSeconds": "312",
      "holdSeconds": "20", "ACWSeconds": "55", "dispositionNotes": "note", "csatScore": "5",
      "accountNumber": "1234567890", "lastUpdateTime": "2026-09-02T02:00:00Z"}"#;
    let (r, d) = map(Shape::Cxone, json);
    assert_eq!(r.contact_id.as_deref(), Some("6420001"));
    assert_eq!(
        (r.queue_id.as_deref(), r.queue_name.as_deref()),
        (Some("4101"), Some("Card Services"))
    );
    assert_eq!(r.agent_id.as_deref(), Some("5123"));
    assert_eq!(r.direction.as_deref(), Some("inbound"));
    assert_eq!(r.phone_number.as_deref(), Some("3175550123"));
    assert_eq!((r.answered, r.abandoned), (Some(true), Some(false)));
    assert_eq!(r.wait_seconds, Some(45.0));
    assert_eq!(
        (r.talk_seconds, r.hold_seconds, r.acw_seconds),
        (Some(292.0), Some(20.0), Some(55.0))
    );
    assert_eq!(r.duration_seconds, Some(367.0));
    assert_eq!(r.csat_score, Some(5.0));
    assert_eq!(r.account_number.as_deref(), Some("1234567890"));
    assert_eq!(r.notes.as_deref(), Some("note"));
    // CXone documents lastUpdateTime: kept in the rescued data, no drift.
    assert!(r.rescued.contains_key("lastUpdateTime"));
    assert_eq!(kinds(&d), vec![]);

    let json = r#"{"contactId": 77, "skillId": 4101, "contactStart": "2026-09-01T10:00:00Z", "agentId": "0",
      "isOutbound": "True", "abandoned": "True", "inQueueSeconds": "3", "agentSeconds": "0", "csatScore": "",
      "skillName": "x", "holdSeconds": "abc"}"#;
    let (r, d) = map(Shape::Cxone, json);
    assert_eq!(r.contact_id.as_deref(), Some("77"));
    assert_eq!(r.agent_id, None);
    assert_eq!(r.direction.as_deref(), Some("outbound"));
    assert_eq!((r.answered, r.abandoned), (Some(false), Some(true)));
    assert_eq!(r.csat_score, None);
    assert_eq!(r.hold_seconds, None);
    assert_eq!(r.rescued.get("holdSeconds"), Some(&Value::from("abc")));
    assert!(kinds(&d).contains(&("holdSeconds".into(), "type_changed")));
}

#[test]
fn generic_events_and_their_aliases() {
    let json = r#"{"event_id": "e1", "timestamp": "2026-09-01T10:00:00Z", "phone_number": "(317) 555-0123",
      "queue_name": "Billing", "duration_seconds": 300.5, "queue_seconds": 12, "outcome_status": "Completed",
      "customer_satisfaction": 4, "notes": "hi", "ended_at": "2026-09-01T10:05:00Z", "sentiment": 0.3}"#;
    let (r, d) = map(Shape::Generic, json);
    assert_eq!(
        (r.event_id.as_deref(), r.contact_id.as_deref()),
        (Some("e1"), Some("e1"))
    );
    assert_eq!(
        (r.queue_id.as_deref(), r.queue_name.as_deref()),
        (Some("Billing"), Some("Billing"))
    );
    assert_eq!(r.wait_seconds, Some(12.0));
    assert_eq!(r.csat_score, Some(4.0));
    assert_eq!(r.duration_seconds, Some(300.5));
    assert_eq!(r.outcome_raw.as_deref(), Some("Completed"));
    assert_eq!(
        r.ended_at,
        Some(Utc.with_ymd_and_hms(2026, 9, 1, 10, 5, 0).unwrap())
    );
    assert_eq!(kinds(&d), vec![("sentiment".into(), "new")]);

    // Ill-typed: null with the raw value rescued; numeric strings accepted but noted.
    let json = r#"{"event_id": "e2", "contact_id": "C9", "timestamp": 1, "queue_id": "q1", "wait_seconds": "soon",
      "csat": "5", "talk_seconds": 10, "acw_seconds": 5, "outcome_status": "Completed"}"#;
    let (r, d) = map(Shape::Generic, json);
    assert_eq!(r.contact_id.as_deref(), Some("C9"));
    assert_eq!(r.wait_seconds, None);
    assert_eq!(r.rescued.get("wait_seconds"), Some(&Value::from("soon")));
    assert_eq!(r.csat_score, Some(5.0));
    assert_eq!(r.duration_seconds, Some(15.0), "handle time from its parts");
    let k = kinds(&d);
    assert!(k.contains(&("wait_seconds".into(), "type_changed")));
    assert!(k.contains(&("csat".into(), "type_changed")));
    assert!(k.contains(&("duration_seconds".into(), "missing")));
}

#[test]
fn mapped_and_ignored_fields() {
    let mut schema = SchemaConfig::default();
    schema.field_map.insert(
        "generic".into(),
        [("handle_time".to_string(), "duration_seconds".to_string())].into(),
    );
    schema
        .ignored
        .insert("generic".into(), vec!["sentiment".into()]);
    let obj = Record::parse(
        br#"{"event_id": "e1", "queue_name": "q", "outcome_status": "Completed", "handle_time": 99, "sentiment": 1}"#,
    )
    .unwrap();
    let mut drift = DriftCollector::default();
    let r = map_record(Shape::Generic, obj, Utc::now(), &schema, &mut drift);
    assert_eq!(r.duration_seconds, Some(99.0));
    assert!(!r.rescued.contains_key("handle_time"));
    assert!(
        r.rescued.contains_key("sentiment"),
        "ignored fields are still kept"
    );
    assert!(drift.seen.is_empty(), "{:?}", drift.seen.keys());
}
