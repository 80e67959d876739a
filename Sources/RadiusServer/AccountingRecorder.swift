import Ledger
import NIOCore
import RadiusProtocol
import RatingEngine

/// Accounting-Request handling. Every balance change is idempotent by the reservation key (NAS +
/// session), never by packet, so a late retransmission or a duplicate Stop debits once; the
/// Accounting-Response goes out only after the ledger made the change durable (RFC 2866 section 4.1).
struct AccountingRecorder: Sendable {
    let store: any LedgerStore
    let settings: PrepaidSettings
    let liveCalls: LiveCalls

    enum StatusType {
        static let start: UInt32 = 1
        static let stop: UInt32 = 2
        static let interim: UInt32 = 3
        static let accountingOn: UInt32 = 7
        static let accountingOff: UInt32 = 8
        static let failed: UInt32 = 15
    }

    /// How far Event-Timestamp and Acct-Delay-Time are believed; beyond it the arrival time is used.
    static let trustedClockSkew: Int64 = 86_400

    /// Returns what was done, for the metrics label.
    func record(_ packet: RadiusPacket, client: NASClient, source: SocketAddress, now: Int64) async throws(LedgerError) -> String {
        let fields = RequestFields(packet: packet)
        let event = Self.eventTime(fields, arrival: now)
        switch fields.statusType {
        case StatusType.accountingOn?, StatusType.accountingOff?:
            return try await nasRestarted(client, before: event, now: now)
        case StatusType.stop? where fields.acctSessionID == "00000000" && (fields.sessionTime ?? 0) == 0:
            return try await nasRestarted(client, before: event, now: now)  // a reboot record (FreeRADIUS radutmp)
        case StatusType.start?:
            guard let reservation = try await reservation(fields, client: client), reservation.state == .open else { return "start_unmatched" }
            liveCalls.answered(reservation, at: event, handle: SessionHandle(request: packet, from: source, client: client))
            return "start"
        case StatusType.interim?:
            guard let reservation = try await reservation(fields, client: client), reservation.state == .open else {
                return "interim_unmatched"
            }
            liveCalls.answered(reservation, at: event, seconds: Int64(fields.sessionTime ?? 0),
                               handle: SessionHandle(request: packet, from: source, client: client))
            return "interim"
        case StatusType.stop?:
            if client.profile.ciscoVSAs, fields.ciscoCallOrigin?.lowercased() == "answer" {
                return "stop_answer_leg"  // the caller's leg into the IVR; the originate leg is the billed call
            }
            return try await stop(fields, client: client, event: event, now: now)
        case StatusType.failed?:
            guard let failed = try await reservation(fields, client: client) else { return "failed_unmatched" }
            let record = CallRecord(status: "failed", start: event, duration: 0, billedSeconds: 0, prefix: "", rule: "",
                                    ratedMicros: 0, sessionID: fields.acctSessionID ?? "", terminateCause: fields.terminateCause,
                                    disconnectCause: fields.ciscoDisconnectCause)
            _ = try await store.commit(key: failed.key, cost: 0, details: record.json, at: now)
            liveCalls.ended(failed.id)
            return "failed"
        default:
            return "other"
        }
    }

    private func nasRestarted(_ client: NASClient, before event: Int64, now: Int64) async throws(LedgerError) -> String {
        _ = try await store.releaseAll(nas: client.name, openedBefore: event, at: now)
        liveCalls.endedAll(nas: client.name, openedBefore: event)
        return "accounting_on_off"
    }

    /// Stop: rate the real duration from the answer time and commit the debit, capped at what
    /// was reserved unless overdraft is allowed. A Stop with no reservation (the NAS never asked,
    /// or the Class was lost) is billed to the User-Name's account as an overrun.
    private func stop(_ fields: RequestFields, client: NASClient, event: Int64, now: Int64) async throws(LedgerError) -> String {
        var found = try await reservation(fields, client: client)
        if found == nil {
            guard let session = fields.acctSessionID ?? fields.ciscoConfID, let name = fields.userName else { return "stop_unmatched" }
            let request = ReservationRequest(key: client.sessionKey(session), pin: client.accountName(name), amount: 0,
                                             expiresAt: now, nas: client.name,
                                             number: fields.calledNumber.flatMap(client.profile.numbers.normalise) ?? "", at: now)
            guard case .reserved(let opened) = try await store.reserve(request) else { return "stop_unmatched" }
            found = opened
        }
        guard let reservation = found else { return "stop_unmatched" }
        if reservation.state == .committed {
            // The first Stop's debit may still be on its way to disk: this one is answered only
            // once it is there, which committing again (idempotent by key) waits for.
            _ = try await store.commit(key: reservation.key, cost: reservation.finalCost ?? 0, details: reservation.details, at: now)
            return "stop_repeated"
        }
        let key = reservation.key
        let account = try await store.account(id: reservation.accountID)
        let answeredAt = liveCalls.answerTime(of: reservation.id)
        let duration = fields.sessionTime.map(Int64.init) ?? max(0, event - (answeredAt ?? reservation.openedAt))
        let start = event - duration
        var record = CallRecord(status: "stop", start: start, duration: duration, billedSeconds: 0, prefix: "", rule: "",
                                ratedMicros: 0, sessionID: fields.acctSessionID ?? fields.ciscoConfID ?? "",
                                terminateCause: fields.terminateCause, disconnectCause: fields.ciscoDisconnectCause)
        var cost: Int64 = 0
        if duration > 0, let plan = settings.plans.plan(named: account.plan), let number = try? DialledNumber(reservation.number),
           let charge = try? plan.charge(number, start: start, durationSeconds: duration) {
            let deck = plan.decks[charge.start.deck]
            record.billedSeconds = charge.billedSeconds
            record.prefix = deck.prefix(at: charge.start.row)
            record.rule = plan.rateName(of: charge.start)
            record.ratedMicros = charge.chargedMicros
            cost = charge.chargedMicros
            if !settings.allowOverdraft, reservation.state == .open, reservation.amount > 0 {
                cost = min(cost, reservation.amount)
            }
        } else if duration > 0 {
            record.status = "unrated"
        }
        _ = try await store.commit(key: key, cost: cost, details: record.json, at: now)
        liveCalls.ended(reservation.id)
        return "stop"
    }

    /// The reservation this accounting record belongs to: the Class Ratel put in the Accept, or
    /// the NAS's session id (Acct-Session-Id, then the Cisco conference id).
    /// A session id may name several calls in turn (`SessionKeyChain`): the Class names one
    /// exactly, a session id names its newest.
    private func reservation(_ fields: RequestFields, client: NASClient) async throws(LedgerError) -> Reservation? {
        for value in fields.classes where value.starts(with: Self.classPrefix) {
            let key = String(decoding: value.dropFirst(Self.classPrefix.count), as: UTF8.self)
            if let found = try await lookUp(key, client: client) { return found }
        }
        if let found = try await newest(named: fields.acctSessionID, client: client) { return found }
        return try await newest(named: fields.ciscoConfID, client: client)
    }

    private func newest(named session: String?, client: NASClient) async throws(LedgerError) -> Reservation? {
        guard let session else { return nil }
        let key = client.sessionKey(session)
        guard let found = try await lookUp(key, client: client) else { return nil }
        return try await SessionKeyChain.newest(from: found, key: key, in: store)
    }

    private static let classPrefix = Array(Authoriser.classPrefix.utf8)

    private func lookUp(_ key: String, client: NASClient) async throws(LedgerError) -> Reservation? {
        guard client.owns(key) else { return nil }
        do {
            return try await store.reservation(key: key)
        } catch .unknownReservation {
            return nil
        }
    }

    static func eventTime(_ fields: RequestFields, arrival: Int64) -> Int64 {
        if let stamp = fields.eventTimestamp, abs(stamp - arrival) <= trustedClockSkew { return stamp }
        if let delay = fields.delayTime, Int64(delay) <= trustedClockSkew { return arrival - Int64(delay) }
        return arrival
    }
}
