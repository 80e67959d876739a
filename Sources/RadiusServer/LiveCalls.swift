import Synchronization
public import Ledger

/// Calls in progress as this node knows them: each is an open reservation, plus what only
/// accounting tells (the answer time). The ledger holds the money;
/// this holds the timing, which `ratel calls` and the admin web read.
public final class LiveCalls: Sendable {
    public struct Call: Sendable, Equatable {
        /// The open reservation's fields, without those only a closed one fills (its state,
        /// final cost, closing time, call record and movement): the registry holds open
        /// reservations only. A whole `Reservation` made each row some 300 bytes, and on a
        /// freshly started server every row is new memory, which these VMs hand out slowly: at
        /// the PAP peak the registry took 0.1 of the server's 0.167 page faults a request, and
        /// without it the server spent about a tenth less CPU a request (trials, issue 4's
        /// notes). These fields cut the server's faults to 0.149 a request.
        private(set) var id: Int64
        private(set) var key: String
        private(set) var accountID: Int64
        private var amount: Int64
        private(set) var nas: String
        private var number: String
        private var destination: String
        private(set) var openedAt: Int64
        private(set) var expiresAt: Int64
        /// When the NAS says the call was answered (Start event time); nil while it rings.
        public var answeredAt: Int64?
        /// How to reach the call on its NAS (RFC 5176); nil when the NAS takes no Disconnect.
        public var handle: SessionHandle?

        init(reservation: Reservation, answeredAt: Int64? = nil, handle: SessionHandle?) {
            (id, key, accountID, amount) = (reservation.id, reservation.key, reservation.accountID, reservation.amount)
            (nas, number, destination) = (reservation.nas, reservation.number, reservation.destination)
            (openedAt, expiresAt) = (reservation.openedAt, reservation.expiresAt)
            self.answeredAt = answeredAt
            self.handle = handle
        }

        /// The call's reservation, open. The registry itself reads the fields: building a whole
        /// reservation retains and releases five strings.
        public var reservation: Reservation {
            Reservation(id: id, key: key, accountID: accountID, amount: amount, nas: nas, number: number, destination: destination,
                        openedAt: openedAt, expiresAt: expiresAt, state: .open, finalCost: nil, closedAt: nil, details: "",
                        movementID: nil)
        }

        /// The ledger changed the open reservation under the call (a longer grant).
        mutating func update(_ reservation: Reservation) {
            self = Call(reservation: reservation, answeredAt: answeredAt, handle: handle)
        }
    }

    private struct State {
        var calls = NumberedTable<Call>()
        /// The numbers of each account's calls, so a review reads accounts, not every call.
        var byAccount = NumberedTable<AccountCalls>()
        /// Calls by expiry, so a sweep touches only what is due; stale entries (the call ended,
        /// or its grant grew) are dropped when they come up.
        var expiries = ExpiryQueue<Int64>()
        var answered = 0

        /// Files a call not filed yet; one already filed is left as it is.
        mutating func open(_ call: Call) {
            let id = call.id
            guard calls.insertNew(id, call) else { return }
            if call.answeredAt != nil { answered += 1 }
            expiries.insert(Expiry(at: call.expiresAt, key: id))
            // The closure takes the number, not the call: capturing the call copied it,
            // retaining and releasing each of its strings (a point of the event loop's samples).
            byAccount.update(call.accountID) { AccountCalls.insert(id, into: &$0) }
        }

        /// Changes a filed call in place (copying it out and back retained and released every
        /// string in it); false when there is none.
        mutating func modify(_ id: Int64, _ body: (inout Call) -> Void) -> Bool {
            var answeredBefore = false
            var expiresBefore: Int64 = 0
            var after: (answered: Bool, expires: Int64)?
            after = calls.modify(id) { call in
                answeredBefore = call.answeredAt != nil
                expiresBefore = call.expiresAt
                body(&call)
                return (call.answeredAt != nil, call.expiresAt)
            }
            guard let after else { return false }
            if !answeredBefore && after.answered { answered += 1 }
            if expiresBefore != after.expires { expiries.insert(Expiry(at: after.expires, key: id)) }
            return true
        }

        mutating func remove(_ id: Int64) {
            guard let call = calls.remove(id) else { return }
            if call.answeredAt != nil { answered -= 1 }
            byAccount.update(call.accountID) { AccountCalls.remove(id, from: &$0) }
        }

        mutating func removeExpired(now: Int64) {
            for next in expiries.removeDue(now: now) {
                if let call = calls[next.key], call.expiresAt == next.at { remove(next.key) }
            }
        }

        /// Removes in place: rebuilding a dictionary of a few hundred thousand calls under the
        /// lock held up every request for a tenth of a second.
        mutating func remove(inChunk chunk: Int64, where due: (Call) -> Bool) {
            for (id, call) in calls.entries(inChunk: chunk) where due(call) { remove(id) }
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
            let filed = state.modify(reservation.id) { call in
                if call.answeredAt == nil { call.answeredAt = time - seconds }
                if let handle { call.handle = call.handle.map { $0.updated(by: handle) } ?? handle }
            }
            if !filed { state.open(Call(reservation: reservation, answeredAt: time - seconds, handle: handle)) }
        }
    }

    /// The ledger changed the reservation under the call (a longer grant after a top-up).
    func updated(_ reservation: Reservation) {
        state.withLock { state in _ = state.modify(reservation.id) { $0.update(reservation) } }
    }

    /// The call on reservation number `id`.
    func call(_ id: Int64) -> Call? { state.withLock { $0.calls[id] } }

    func calls(ofAccount accountID: Int64) -> [Call] {
        state.withLock { state in (state.byAccount[accountID]?.ids ?? []).compactMap { state.calls[$0] } }
    }

    /// The accounts that have calls in progress, a chunk of account numbers at a time, for a
    /// reader that paces itself: gathered into one array, a million accounts took ~50 ms of a
    /// core at once (their values copied out and freed again), and the replies queued behind it.
    var accountChunks: [Int64] { state.withLock { $0.byAccount.chunkNumbers } }

    /// The accounts in one of `accountChunks` that have calls in progress now.
    func accountIDs(inChunk chunk: Int64) -> [Int64] { state.withLock { $0.byAccount.numbers(inChunk: chunk) } }

    /// Collects from every chunk of calls, taking the lock once per chunk: one lock over a few
    /// hundred thousand calls held every request up for ~20 ms.
    private func gather<Element>(_ body: (borrowing State, Int64) -> [Element]) -> [Element] {
        var all: [Element] = []
        for chunk in state.withLock({ $0.calls.chunkNumbers }) {
            all += state.withLock { state in body(state, chunk) }
        }
        return all
    }

    func answerTime(of id: Int64) -> Int64? { state.withLock { $0.calls[id]?.answeredAt } }

    func ended(_ id: Int64) { state.withLock { $0.remove(id) } }

    /// One chunk at a time, like `gather`: a NAS's restart would otherwise hold every request
    /// up for as long as it takes to look at every call.
    func endedAll(nas: String, openedBefore time: Int64) {
        for chunk in state.withLock({ $0.calls.chunkNumbers }) {
            state.withLock { state in
                state.remove(inChunk: chunk) { $0.nas == nas && $0.openedAt < time }
            }
        }
    }

    func expired(now: Int64) {
        state.withLock { $0.removeExpired(now: now) }
    }

    public var snapshot: [Call] {
        gather { state, chunk in state.calls.entries(inChunk: chunk).map(\.value) }.sorted { ($0.openedAt, $0.key) < ($1.openedAt, $1.key) }
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
