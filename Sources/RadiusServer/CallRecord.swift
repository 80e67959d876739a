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

    /// One string grown in place: this runs on every Stop, on the event loop, where building
    /// each member as a string of its own and joining them cost more than the rest of the Stop.
    var json: String {
        var text = ""
        text.reserveCapacity(160 + prefix.utf8.count + rule.utf8.count + sessionID.utf8.count + (disconnectCause?.utf8.count ?? 0))
        text.append("{\"status\":")
        JSONText.appendQuoted(status, to: &text)
        text.append(",\"start\":")
        text.append(String(start))
        text.append(",\"duration\":")
        text.append(String(duration))
        text.append(",\"billed_seconds\":")
        text.append(String(billedSeconds))
        text.append(",\"prefix\":")
        JSONText.appendQuoted(prefix, to: &text)
        text.append(",\"rule\":")
        JSONText.appendQuoted(rule, to: &text)
        text.append(",\"rated_micros\":")
        text.append(String(ratedMicros))
        text.append(",\"session_id\":")
        JSONText.appendQuoted(sessionID, to: &text)
        if let terminateCause {
            text.append(",\"terminate_cause\":")
            text.append(String(terminateCause))
        }
        if let disconnectCause {
            text.append(",\"disconnect_cause\":")
            JSONText.appendQuoted(disconnectCause, to: &text)
        }
        text.append("}")
        return text
    }
}
