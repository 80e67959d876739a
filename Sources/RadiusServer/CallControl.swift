public import Ledger
import Logging
import Synchronization
import RadiusProtocol
import RatingEngine

/// Ratel's side of RFC 5176: it ends calls an operator asks to end, ends the calls of accounts
/// that stopped being usable (disabled, dropped or expired, by any node or the CLI), and grows
/// the grant of calls whose account was topped up, where the NAS takes CoA.
public final class CallControl: Sendable {
    let store: any LedgerStore
    let settings: PrepaidSettings
    let clients: ClientTable
    let liveCalls: LiveCalls
    let sender: DynamicAuthorizationClient
    let metrics: ServerMetrics
    let logger: Logger
    let clock: @Sendable () -> Int64

    private struct Memory {
        /// Calls a review's Disconnect-Request ended or is ending, so the next review sends no other.
        var ending: Set<Int64> = []
        /// Each account's balance at the last review; grants are re-planned only when it changes.
        var balances: [Int64: Int64] = [:]
    }
    private let memory = Mutex(Memory())

    public init(engine: RadiusEngine, settings: PrepaidSettings, sender: DynamicAuthorizationClient,
                clock: @escaping @Sendable () -> Int64) {
        store = engine.store
        self.settings = settings
        clients = engine.clients
        liveCalls = engine.liveCalls
        self.sender = sender
        metrics = engine.metrics
        logger = engine.logger
        self.clock = clock
    }

    /// Sends a Disconnect-Request for the live call `key`; nil when there is no such call. Live
    /// calls are filed by reservation number, so the key is looked up in the ledger first; a
    /// ledger that cannot answer is an error, not "no such call".
    public func end(key: String) async throws(LedgerError) -> ControlOutcome? {
        let reservation: Reservation
        do { reservation = try await store.reservation(key: key) } catch .unknownReservation { return nil }
        guard let call = liveCalls.call(reservation.id) else { return nil }
        return await disconnect(call, why: "operator")
    }

    /// One pass over the accounts that have live calls; `ratel serve` runs it every sweep.
    /// Accounts are read a chunk of live calls' account numbers at a time (at most 1,024, under
    /// one lock), then a pause. Read one account at a time, a review of a few hundred thousand
    /// live accounts took half a second of a core every sweep and pushed the latency of the
    /// requests around it to tens of milliseconds; the pause spreads the review over the sweep
    /// (about 1 s per 250k accounts). It was 1 ms after every 256 accounts, but then the wake-ups
    /// (a timer, the dispatch manager and a worker thread each time) cost three times the
    /// reading: ~9% of a core for as long as a million live accounts kept a review going.
    public func review() async {
        let now = clock()
        let seen = memory.withLock { memory in
            memory.ending = memory.ending.filter { liveCalls.call($0) != nil }
            return memory.balances
        }
        // Balances matter only to grow grants by CoA; with no client that takes CoA, none are kept.
        let coaPossible = clients.clients.contains { $0.profile.acceptsCoA }
        var balances: [Int64: Int64] = [:]
        for (index, chunk) in liveCalls.accountChunks.enumerated() {
            if index > 0 { try? await Task.sleep(for: Self.reviewPause) }
            await review(liveCalls.accountIDs(inChunk: chunk), now: now, seen: seen, coaPossible: coaPossible, balances: &balances)
        }
        memory.withLock { $0.balances = balances }
    }

    /// Disconnects the live calls of the accounts in `slice` that are no longer usable, and grows
    /// the grants of those whose balance changed since the last review (`seen`).
    private func review(_ slice: [Int64], now: Int64, seen: [Int64: Int64], coaPossible: Bool,
                        balances: inout [Int64: Int64]) async {
        let accounts: [Account]
        do { accounts = try await store.accounts(ids: slice) } catch {
            logger.error("cannot read accounts with live calls", metadata: ["error": "\(error)"])
            return
        }
        for account in accounts {
            if account.status != .active || (account.expiresAt.map { $0 <= now } ?? false) {
                let fresh = liveCalls.calls(ofAccount: account.id).filter { call in
                    memory.withLock { $0.ending.insert(call.id).inserted }
                }
                await withDiscardingTaskGroup { group in
                    for call in fresh { group.addTask { _ = await self.disconnect(call, why: "account_\(account.status.rawValue)") } }
                }
                continue
            }
            guard coaPossible else { continue }
            // A balance not seen before (a top-up, or a call new to this review) may pay for longer calls.
            balances[account.id] = account.balance
            guard seen[account.id] != account.balance else { continue }
            for call in liveCalls.calls(ofAccount: account.id) where call.handle?.acceptsCoA == true {
                await extend(call, account: account, now: now)
            }
        }
    }

    static let reviewPause = Duration.milliseconds(4)

    private func disconnect(_ call: LiveCalls.Call, why: String) async -> ControlOutcome {
        let key = call.key
        guard let handle = call.handle, let client = clients.client(named: handle.client) else {
            return .unsupported
        }
        let outcome = await sender.send(.disconnectRequest, attributes: handle.identification, to: handle.address,
                                        secret: client.secret, now: clock())
        metrics.control("disconnect", nas: client.name, outcome: outcome.label)
        let level: Logger.Level = outcome.callEnded ? .info : .warning
        logger.log(level: level, "Disconnect-Request", metadata: ["nas": "\(client.name)", "call": "\(key)",
                                                                 "why": "\(why)", "outcome": "\(outcome.label)"])
        if !outcome.callEnded { memory.withLock { _ = $0.ending.remove(call.id) } }
        return outcome
    }

    /// Re-plans the call with the money the top-up freed, holds the difference and tells the NAS
    /// the longer Session-Timeout. If the NAS refuses, the larger hold is harmless: Stop debits
    /// the real duration.
    private func extend(_ call: LiveCalls.Call, account: Account, now: Int64) async {
        let reservation = call.reservation
        guard let handle = call.handle, let client = clients.client(named: handle.client),
              let plan = settings.plans.plan(named: account.plan), let number = try? DialledNumber(reservation.number)
        else { return }
        func longest(_ budget: Int64) -> Int64 {
            (try? settings.longestGrant(plan, number, start: reservation.openedAt, budget: budget)) ?? 0
        }
        let current = longest(reservation.amount)
        var budget = reservation.amount + account.balance + account.creditLimit
        for _ in 0..<3 {
            let grant = longest(budget)
            guard grant > current, let cost = try? plan.charge(number, start: reservation.openedAt, durationSeconds: grant).chargedMicros,
                  cost > reservation.amount else { return }
            let outcome: ReserveOutcome
            do {
                outcome = try await store.extend(key: reservation.key, by: cost - reservation.amount,
                                                 expiresAt: reservation.openedAt + grant + settings.reservationGraceSeconds, at: now)
            } catch {
                return  // the call ended meanwhile
            }
            switch outcome {
            case .reserved(let extended):
                liveCalls.updated(extended)
                let sent = await sender.send(.coaRequest, attributes: handle.identification + [
                    OutgoingAttribute(AttributeType.sessionTimeout, integer: UInt32(clamping: grant)),
                ], to: handle.address, secret: client.secret, now: clock())
                metrics.control("coa", nas: client.name, outcome: sent.label)
                logger.info("CoA-Request after a top-up", metadata: ["nas": "\(client.name)", "call": "\(reservation.key)",
                                                                     "grant": "\(current)->\(grant)", "outcome": "\(sent.label)"])
                return
            case .refused(.insufficientFunds(let available)) where reservation.amount + available < budget:
                budget = reservation.amount + available
            case .refused:
                return
            }
        }
    }
}
