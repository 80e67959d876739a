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
        /// How to reach the call on its NAS (RFC 5176); nil when the NAS takes no Disconnect.
        public var handle: SessionHandle?
    }

    private let calls = Mutex<[String: Call]>([:])

    public init() {}

    func opened(_ reservation: Reservation, handle: SessionHandle? = nil) {
        calls.withLock { calls in
            if calls[reservation.key] == nil { calls[reservation.key] = Call(reservation: reservation, handle: handle) }
        }
    }

    /// Start (or an Interim after a restart, `seconds` into the call) names the answer time.
    func answered(_ reservation: Reservation, at time: Int64, seconds: Int64 = 0, handle: SessionHandle?) {
        calls.withLock { calls in
            var call = calls[reservation.key] ?? Call(reservation: reservation)
            if call.answeredAt == nil { call.answeredAt = time - seconds }
            if let handle { call.handle = call.handle.map { $0.updated(by: handle) } ?? handle }
            calls[reservation.key] = call
        }
    }

    /// The ledger changed the reservation under the call (a longer grant after a top-up).
    func updated(_ reservation: Reservation) {
        calls.withLock { calls in calls[reservation.key]?.reservation = reservation }
    }

    func call(_ key: String) -> Call? { calls.withLock { $0[key] } }

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
