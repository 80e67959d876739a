import Synchronization

/// Lets a server take a ledger decision now and its durability later. Inside
/// `DeferredDurability.$current.withValue(deferral) { ... }`, an operation of a store that decides
/// in memory (`LedgerStore.decidesInMemory`) returns as soon as it is decided and queued for
/// disk, and leaves what is yet to be written in `deferral`; the caller must not acknowledge
/// anything it decided until `whenDurable` says so. That spares a task suspension and a thread
/// hop per operation: a RADIUS listener answers a whole read of datagrams with one callback
/// from the ledger's writer. Stores that write before they return leave the deferral empty.
public final class DeferredDurability: Sendable {
    @TaskLocal public static var current: DeferredDurability?

    private struct Pending {
        var journal: GroupCommit
        var ticket: UInt64
    }

    private let pending = Mutex<Pending?>(nil)
    /// How many operations left something to wait for here: one deferral can serve many
    /// decisions, each of which asks whether it added to what is held.
    private let holdCount = Atomic<Int>(0)

    public init() {}

    /// Grows each time an operation under this deferral leaves something to wait for.
    public var holds: Int { holdCount.load(ordering: .relaxed) }

    func hold(_ ticket: UInt64, of journal: GroupCommit) {
        holdCount.add(1, ordering: .relaxed)
        pending.withLock { pending in
            // Tickets of one journal only grow, and the writer makes them durable in order.
            if let held = pending, held.journal === journal, held.ticket >= ticket { return }
            pending = Pending(journal: journal, ticket: ticket)
        }
    }

    /// Runs `body` once everything held is durable (at once when nothing is), on the ledger
    /// writer's thread or the caller's; with the error if the store failed to write it, and the
    /// round of callbacks it runs in (`DurableRound.atEnd`).
    public func whenDurable(_ body: @escaping @Sendable (LedgerError?, DurableRound) -> Void) {
        guard let held = pending.withLock({ $0 }) else { return DurableRound.run { body(nil, $0) } }
        held.journal.whenDurable(held.ticket, .callback(body))
    }

    /// Suspends until everything held is durable.
    public func wait() async throws(LedgerError) {
        guard let held = pending.withLock({ $0 }) else { return }
        try await held.journal.waitDurable(held.ticket)
    }
}
