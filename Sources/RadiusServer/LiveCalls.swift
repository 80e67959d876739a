import Synchronization
public import Ledger

/// Calls in progress as this node knows them: each is an open reservation, plus what only
/// accounting tells (the answer time). The ledger holds the money;
/// this holds the timing, which `ratel calls` and the admin web read.
public final class LiveCalls: Sendable {
    public struct Call: Sendable, Equatable {
        public var reservation: Reservation
        /// When the NAS says the call was answered (Start event time); nil while it rings.
        public var answeredAt: Int64?
    }

    private let calls = Mutex<[String: Call]>([:])

    public init() {}

    func opened(_ reservation: Reservation) {
        calls.withLock { calls in
            if calls[reservation.key] == nil { calls[reservation.key] = Call(reservation: reservation) }
        }
    }

    func answered(_ reservation: Reservation, at time: Int64) {
        calls.withLock { calls in
            var call = calls[reservation.key] ?? Call(reservation: reservation)
            if call.answeredAt == nil { call.answeredAt = time }
            calls[reservation.key] = call
        }
    }

    func interim(_ reservation: Reservation, seconds: Int64, at time: Int64) {
        calls.withLock { calls in
            var call = calls[reservation.key] ?? Call(reservation: reservation)
            if call.answeredAt == nil { call.answeredAt = time - seconds }
            calls[reservation.key] = call
        }
    }

    func answerTime(of key: String) -> Int64? { calls.withLock { $0[key]?.answeredAt } }

    func ended(_ key: String) { calls.withLock { $0[key] = nil } }

    func endedAll(nas: String, openedBefore time: Int64) {
        calls.withLock { calls in calls = calls.filter { !($0.value.reservation.nas == nas && $0.value.reservation.openedAt < time) } }
    }

    func expired(now: Int64) {
        calls.withLock { calls in calls = calls.filter { $0.value.reservation.expiresAt > now } }
    }

    public var snapshot: [Call] {
        calls.withLock { Array($0.values) }.sorted { ($0.reservation.openedAt, $0.reservation.key) < ($1.reservation.openedAt, $1.reservation.key) }
    }

    public var count: Int { calls.withLock { $0.count } }

    public var answeredCount: Int { calls.withLock { $0.values.count { $0.answeredAt != nil } } }
}
