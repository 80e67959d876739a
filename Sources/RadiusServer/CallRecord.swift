import RatingEngine

/// What a finished call leaves behind, stored as the committed reservation's `details` (a JSON
/// object) so the debit and its record are made durable together. The CDR collector reads these.
struct CallRecord: Sendable, Equatable {
    var status: String
    var start: Int64
    var duration: Int64
    var billedSeconds: Int64
    var prefix: String
    var rule: String
    /// The rated cost before any cap at the reserved amount, micros.
    var ratedMicros: Int64
    var sessionID: String
    var terminateCause: UInt32?
    var disconnectCause: String?

    var json: String {
        var members = [
            "\"status\":\(Self.quoted(status))", "\"start\":\(start)", "\"duration\":\(duration)",
            "\"billed_seconds\":\(billedSeconds)", "\"prefix\":\(Self.quoted(prefix))", "\"rule\":\(Self.quoted(rule))",
            "\"rated_micros\":\(ratedMicros)", "\"session_id\":\(Self.quoted(sessionID))",
        ]
        if let terminateCause { members.append("\"terminate_cause\":\(terminateCause)") }
        if let disconnectCause { members.append("\"disconnect_cause\":\(Self.quoted(disconnectCause))") }
        return "{" + members.joined(separator: ",") + "}"
    }

    static func quoted(_ text: String) -> String { JSONText.quoted(text) }
}
