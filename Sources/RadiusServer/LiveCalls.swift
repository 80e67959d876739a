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

    /// A call as the table holds it: boxed, so the table moves a pointer when it grows, and a
    /// new call's few hundred bytes land next to the last one's instead of on a fresh page of
    /// a table sized for every call (page faults were a tenth of the CPU on a fresh server).
    private final class Entry {
        var call: Call
        init(_ call: Call) { self.call = call }
    }

    /// Filed under the reservation's number, not its key: removing a String-keyed entry rehashed
    /// its neighbours' keys, each a cold heap string: about a tenth of a Stop's CPU under `perf`.
    private struct State {
        var calls = ShardedTable<Int64, Entry>()
        /// The numbers of each account's calls, so a review reads accounts, not every call.
        var byAccount = ShardedTable<Int64, AccountCalls>()
        /// Calls by expiry, so a sweep touches only what is due; stale entries (the call ended,
        /// or its grant grew) are dropped when they come up.
        var expiries = ExpiryQueue<Int64>()
        var answered = 0

        /// Saves `call` over `existing`, the table's entry for it that the caller looked up (nil:
        /// there is none).
        mutating func save(_ call: Call, over existing: Entry?) {
            guard let existing else { return open(call) }
            let previous = existing.call
            existing.call = call
            if previous.answeredAt == nil && call.answeredAt != nil { answered += 1 }
            if previous.reservation.expiresAt != call.reservation.expiresAt {
                expiries.insert(Expiry(at: call.reservation.expiresAt, key: call.reservation.id))
            }
        }

        /// Files a call not filed yet, with one lookup in the table (each is a cache miss or two
        /// with a few hundred thousand calls open); one already filed is left as it is.
        mutating func open(_ call: Call) {
            // The by-account closure takes the number, not the call: capturing the call copied it,
            // retaining and releasing each of its strings (a point of the event loop's samples).
            let id = call.reservation.id
            let isNew = calls.update(id) { entry in
                guard entry == nil else { return false }
                entry = Entry(call)
                return true
            }
            guard isNew else { return }
            if call.answeredAt != nil { answered += 1 }
            expiries.insert(Expiry(at: call.reservation.expiresAt, key: id))
            byAccount.update(call.reservation.accountID) { AccountCalls.insert(id, into: &$0) }
        }

        mutating func remove(_ id: Int64) {
            guard let call = calls.removeValue(forKey: id)?.call else { return }
            if call.answeredAt != nil { answered -= 1 }
            byAccount.update(call.reservation.accountID) { AccountCalls.remove(id, from: &$0) }
        }

        mutating func removeExpired(now: Int64) {
            for next in expiries.removeDue(now: now) {
                if let call = calls[next.key]?.call, call.reservation.expiresAt == next.at { remove(next.key) }
            }
        }

        /// Removes in place: rebuilding a dictionary of a few hundred thousand calls under the
        /// lock held up every request for a tenth of a second.
        mutating func remove(inShard shard: Int, where due: (Call) -> Bool) {
            for id in calls.keys(inShard: shard, where: { due($0.call) }) { remove(id) }
        }
    }

    private let state = Mutex(State())

    public init() {}

    func opened(_ reservation: Reservation, handle: SessionHandle? = nil) {
        state.withLock { state in state.open(Call(reservation: reservation, handle: handle)) }
    }

    /// Start (or an Interim after a restart, `seconds` into the call) names the answer time.
    func answered(_ reservation: Reservation, at time: Int64, seconds: Int64 = 0, handle: SessionHandle?) {
        state.withLock { state in
            guard let existing = state.calls[reservation.id] else {
                state.save(Call(reservation: reservation, answeredAt: time - seconds, handle: handle), over: nil)
                return
            }
            // In place: copying the call out and back retained and released every string in it.
            if existing.call.answeredAt == nil {
                existing.call.answeredAt = time - seconds
                state.answered += 1
            }
            if let handle { existing.call.handle = existing.call.handle.map { $0.updated(by: handle) } ?? handle }
        }
    }

    /// The ledger changed the reservation under the call (a longer grant after a top-up).
    func updated(_ reservation: Reservation) {
        state.withLock { state in
            guard let existing = state.calls[reservation.id] else { return }
            var call = existing.call
            call.reservation = reservation
            state.save(call, over: existing)
        }
    }

    /// The call on reservation number `id`.
    func call(_ id: Int64) -> Call? { state.withLock { $0.calls[id]?.call } }

    func calls(ofAccount accountID: Int64) -> [Call] {
        state.withLock { state in (state.byAccount[accountID]?.ids ?? []).compactMap { state.calls[$0]?.call } }
    }

    /// The accounts that have calls in progress.
    var accountIDs: [Int64] { gather { state, shard in state.byAccount.keys(inShard: shard) } }

    /// Collects from every shard, taking the lock once per shard: one lock over a few hundred
    /// thousand calls held every request up for ~20 ms.
    private func gather<Element>(_ body: (borrowing State, Int) -> [Element]) -> [Element] {
        var all: [Element] = []
        for shard in 0..<ShardedTable<Int64, Entry>.shardCount {
            all += state.withLock { state in body(state, shard) }
        }
        return all
    }

    func answerTime(of id: Int64) -> Int64? { state.withLock { $0.calls[id]?.call.answeredAt } }

    func ended(_ id: Int64) { state.withLock { $0.remove(id) } }

    /// One shard at a time, like `gather`: a NAS's restart would otherwise hold every request
    /// up for as long as it takes to look at every call.
    func endedAll(nas: String, openedBefore time: Int64) {
        for shard in 0..<ShardedTable<Int64, Entry>.shardCount {
            state.withLock { state in
                state.remove(inShard: shard) { $0.reservation.nas == nas && $0.reservation.openedAt < time }
            }
        }
    }

    func expired(now: Int64) {
        state.withLock { $0.removeExpired(now: now) }
    }

    public var snapshot: [Call] {
        gather { state, shard in state.calls.values(inShard: shard).map(\.call) }.sorted { ($0.reservation.openedAt, $0.reservation.key) < ($1.reservation.openedAt, $1.reservation.key) }
    }

    public var count: Int { state.withLock { $0.calls.count } }

    public var answeredCount: Int { state.withLock { $0.answered } }
}

/// An account's live calls by reservation number (nil in the table: none). Most accounts have one
/// call at a time, and a set for it cost an allocation on every call's start and another on its end.
enum AccountCalls {
    case one(Int64)
    case many(Set<Int64>)

    var ids: [Int64] {
        switch self {
        case .one(let id): [id]
        case .many(let ids): Array(ids)
        }
    }

    static func insert(_ id: Int64, into calls: inout AccountCalls?) {
        switch calls {
        case nil:
            calls = .one(id)
        case .one(let only)? where only != id:
            calls = .many([only, id])
        case .one?:
            break
        case .many(var ids)?:
            calls = nil  // so the set is uniquely held and grows in place
            ids.insert(id)
            calls = .many(ids)
        }
    }

    static func remove(_ id: Int64, from calls: inout AccountCalls?) {
        switch calls {
        case .one(let only)? where only == id:
            calls = nil
        case .many(var ids)?:
            calls = nil
            ids.remove(id)
            calls = ids.count > 1 ? .many(ids) : ids.first.map(AccountCalls.one)
        default:
            break
        }
    }
}
