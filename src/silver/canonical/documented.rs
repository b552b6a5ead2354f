//! Fields each platform documents that cclake keeps in `_rescued_data` without a column of its
//! own. They are known: they are rescued as any unmapped field is, but open no schema-drift
//! observation; drift shows only what the documentation does not have.
//!
//! Sources: Amazon Connect's contact record data model
//! (docs.aws.amazon.com/connect/latest/adminguide/ctr-data-model.html) and its `Contact` API
//! type; Genesys Cloud's `AnalyticsConversationWithoutAttributes` (the conversation details
//! query and job results); NICE CXone's completed-contact fields (Reporting API
//! `contacts/completed` and `contacts/{contactId}`), as the real payloads under
//! `tests/fixtures/real` carry them.

use crate::sources::Shape;

const GENESYS: &[&str] = &[
    "conferenceStart",
    "conversationInitiator",
    "customerParticipation",
    "divisionIds",
    "evaluations",
    "externalTag",
    "inactivityTimeout",
    "knowledgeBaseIds",
    "mediaStatsMinConversationMos",
    "mediaStatsMinConversationRFactor",
    "originatingSocialMediaPublic",
    "resolutions",
    "selfServed",
    "surveys",
];

const CXONE: &[&str] = &[
    "abandonSeconds",
    "callbackTime",
    "campaignId",
    "campaignName",
    "confSeconds",
    "dateACWWarehoused",
    "dateContactWarehoused",
    "endReason",
    "firstName",
    "holdCount",
    "isAnalyticsProcessed",
    "isLogged",
    "isRefused",
    "isShortAbandon",
    "isTakeover",
    "lastName",
    "lastUpdateTime",
    "mediaType",
    "pointOfContactId",
    "pointOfContactName",
    "postQueueSeconds",
    "preQueueSeconds",
    "primaryDispositionId",
    "refuseReason",
    "refuseTime",
    "releaseSeconds",
    "routingTime",
    "secondaryDispositionId",
    "serviceLevelFlag",
    "state",
    "teamId",
    "teamName",
    "toAddr",
    "totalDurationSeconds",
    "transferIndicatorId",
    "transferIndicatorName",
];

const CONNECT: &[&str] = &[
    "AWSAccountId",
    "AgentConnectionAttempts",
    "AnsweringMachineDetectionStatus",
    "Attributes",
    "Campaign",
    "ChatMetrics",
    "ConnectedToSystemTimestamp",
    "ContactAssociationId",
    "ContactDetails",
    "ContactLens",
    "Customer",
    "CustomerId",
    "CustomerVoiceActivity",
    "DisconnectDetails",
    "DisconnectReason",
    "InitialContactId",
    "InstanceARN",
    "LastPausedTimestamp",
    "LastResumedTimestamp",
    "MediaStreams",
    "NextContactId",
    "PreviousContactId",
    "QualityMetrics",
    "Recording",
    "Recordings",
    "References",
    "RelatedContactId",
    "RoutingCriteria",
    "ScheduledTimestamp",
    "SegmentAttributes",
    "SystemEndpoint",
    "Tags",
    "TaskTemplateInfo",
    "TotalPauseCount",
    "TotalPauseDurationInSeconds",
    "TransferCompletedTimestamp",
    "TransferredToEndpoint",
    "VoiceIdResult",
];

/// Whether `shape`'s platform documents `field` (a generic feed documents nothing).
pub fn is_documented(shape: Shape, field: &str) -> bool {
    let list = match shape {
        Shape::Genesys => GENESYS,
        Shape::Cxone => CXONE,
        Shape::Connect => CONNECT,
        Shape::Generic => return false,
    };
    list.binary_search(&field).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lists_are_sorted_for_the_search() {
        for list in [GENESYS, CXONE, CONNECT] {
            let mut sorted = list.to_vec();
            sorted.sort_unstable();
            assert_eq!(sorted, list);
        }
        assert!(is_documented(Shape::Connect, "InitialContactId"));
        assert!(is_documented(Shape::Cxone, "isShortAbandon"));
        assert!(!is_documented(Shape::Generic, "sentiment_score"));
        assert!(!is_documented(Shape::Connect, "MadeUpField"));
    }
}
