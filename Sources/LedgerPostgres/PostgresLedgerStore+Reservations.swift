import Foundation
public import Ledger
import PostgresNIO

/// Reservations are single SQL statements: the account row's own conditional UPDATE decides,
/// so two nodes can never hold or spend the same money. `held` and `open_calls` on the account
/// are the sum and count of its open reservations, changed only here, in the same statement.
/// Reserves and commits that arrive together run those statements in one function call (one
/// transaction, one commit; see migration 2); what a batch leaves unsettled, a refusal or an
/// error, is decided again alone here, where the refusal is worded.
extension PostgresLedgerStore {
    public func reserve(_ request: ReservationRequest) async throws(LedgerError) -> ReserveOutcome {
        if request.amount < 0 || request.key.isEmpty {
            if let existing = try await find(request.key) { return .reserved(existing) }
            throw .invalid(request.key.isEmpty ? "a reservation needs a key" : "a reservation must not be negative")
        }
        if let reservation = await reserveBatcher.submit(request) { return .reserved(reservation) }
        for _ in 0..<3 {
            // nil: the same key raced in from another connection, and the first one won.
            if let rows = try await rows("""
                    WITH account AS (
                        UPDATE accounts SET held = held + \(request.amount), open_calls = open_calls + 1
                        WHERE pin = \(request.pin) AND status = 'active' AND (expires_at IS NULL OR expires_at > \(request.at))
                          AND open_calls < max_calls AND balance + credit_limit - held >= \(request.amount)
                          AND NOT EXISTS (SELECT 1 FROM reservations WHERE key = \(request.key))
                        RETURNING id)
                    INSERT INTO reservations (key, account_id, amount, nas, number, destination, opened_at, expires_at, state, details)
                    SELECT \(request.key), id, \(request.amount), \(request.nas), \(request.number), \(request.destination),
                           \(request.at), \(request.expiresAt), 'open', '' FROM account
                    RETURNING \(unescaped: PostgresRows.reservationColumns)
                    """, unlessViolating: "reservations_pkey"), let reservation = try decodeAll(rows, PostgresRows.reservation).first {
                return .reserved(reservation)
            }
            if let existing = try await find(request.key) { return .reserved(existing) }
            guard let (account, held, calls) = try await holdingAccount("""
                SELECT \(unescaped: Self.holdingColumns) FROM accounts WHERE pin = \(request.pin)
                """) else { return .refused(.unknownAccount) }
            if let refusal = account.refusal(at: request.at) { return .refused(refusal) }
            if account.status == .inactive { return .refused(.inactive) }
            if calls >= account.maxCalls { return .refused(.tooManyCalls(limit: account.maxCalls)) }
            let available = account.balance + account.creditLimit - held
            if available < request.amount { return .refused(.insufficientFunds(available: available)) }
            // The account changed between the statement and the reading: decide again.
        }
        throw .storage("reservation \(request.key) did not settle after three attempts")
    }

    public func commit(key: String, cost: Int64, details: String, at: Int64) async throws(LedgerError) -> Reservation {
        guard cost >= 0 else {
            let existing = try await reservation(key: key)
            if existing.state == .committed { return existing }
            throw .invalid("a call cost must not be negative")
        }
        if let committed = await commitBatcher.submit(CommitRequest(key: key, cost: cost, details: details, at: at)) {
            return committed
        }
        // A commit after a release or expiry still debits (a late Stop): it held nothing then.
        if let committed = try await reservations("""
            WITH old AS (
                SELECT key, account_id, amount, state, nas FROM reservations
                WHERE key = \(key) AND state <> 'committed' FOR UPDATE),
            debit AS (
                INSERT INTO movements (account_id, amount, kind, method, reference, actor, at)
                SELECT account_id, -\(cost)::BIGINT, 'call', NULL, key,
                       CASE WHEN nas = '' THEN 'ledger' ELSE 'nas:' || nas END, \(at) FROM old
                RETURNING id),
            account AS (
                UPDATE accounts a SET balance = a.balance - \(cost),
                    held = a.held - CASE WHEN old.state = 'open' THEN old.amount ELSE 0 END,
                    open_calls = a.open_calls - CASE WHEN old.state = 'open' THEN 1 ELSE 0 END
                FROM old WHERE a.id = old.account_id RETURNING a.id)
            UPDATE reservations r SET state = 'committed', final_cost = \(cost), closed_at = \(at), details = \(details),
                amount = CASE WHEN old.state = 'open' THEN old.amount ELSE 0 END, movement_id = debit.id
            FROM old, debit WHERE r.key = old.key
            RETURNING \(unescaped: Self.qualifiedReservationColumns)
            """).first { return committed }
        return try await reservation(key: key)  // already committed: the first result, or unknown
    }

    public func release(key: String, at: Int64) async throws(LedgerError) -> Reservation {
        if let released = try await reservations("""
            WITH old AS (SELECT key, account_id, amount FROM reservations WHERE key = \(key) AND state = 'open' FOR UPDATE),
            account AS (
                UPDATE accounts a SET held = a.held - old.amount, open_calls = a.open_calls - 1
                FROM old WHERE a.id = old.account_id RETURNING a.id)
            UPDATE reservations r SET state = 'released', closed_at = \(at) FROM old WHERE r.key = old.key
            RETURNING \(unescaped: Self.qualifiedReservationColumns)
            """).first { return released }
        return try await reservation(key: key)
    }

    public func extend(key: String, by amount: Int64, expiresAt: Int64, at: Int64) async throws(LedgerError) -> ReserveOutcome {
        let current = try await reservation(key: key)
        guard current.state == .open else { throw .reservationClosed(key: key, state: current.state) }
        guard amount >= 0 else { throw .invalid("an extension must not be negative") }
        if let extended = try await reservations("""
            WITH old AS (SELECT key, account_id FROM reservations WHERE key = \(key) AND state = 'open' FOR UPDATE),
            account AS (
                UPDATE accounts a SET held = a.held + \(amount)
                FROM old WHERE a.id = old.account_id AND a.balance + a.credit_limit - a.held >= \(amount) RETURNING a.id)
            UPDATE reservations r SET amount = r.amount + \(amount), expires_at = GREATEST(r.expires_at, \(expiresAt))
            FROM old, account WHERE r.key = old.key
            RETURNING \(unescaped: Self.qualifiedReservationColumns)
            """).first { return .reserved(extended) }
        let after = try await reservation(key: key)
        guard after.state == .open else { throw .reservationClosed(key: key, state: after.state) }
        guard let (account, held, _) = try await holdingAccount("""
            SELECT \(unescaped: Self.holdingColumns) FROM accounts WHERE id = \(after.accountID)
            """) else { throw .storage("reservation \(key) names a missing account") }
        return .refused(.insufficientFunds(available: account.balance + account.creditLimit - held))
    }

    public func reservation(key: String) async throws(LedgerError) -> Reservation {
        guard let reservation = try await find(key) else { throw .unknownReservation(key) }
        return reservation
    }

    public func openReservations() async throws(LedgerError) -> [Reservation] {
        try await reservations("""
            SELECT \(unescaped: PostgresRows.reservationColumns) FROM reservations WHERE state = 'open' ORDER BY opened_at, key
            """)
    }

    public func releaseExpired(now: Int64) async throws(LedgerError) -> Int {
        try await closeAll(as: .expired, at: now, where: "state = 'open' AND expires_at <= \(now)")
    }

    public func releaseAll(nas: String, openedBefore before: Int64, at: Int64) async throws(LedgerError) -> Int {
        try await closeAll(as: .released, at: at, where: "state = 'open' AND nas = \(nas) AND opened_at < \(before)")
    }

    private func closeAll(as state: ReservationState, at: Int64, where condition: PostgresQuery) async throws(LedgerError) -> Int {
        var binds = condition.binds
        binds.append(state.rawValue)
        binds.append(at)
        let query = PostgresQuery(unsafeSQL: """
            WITH closed AS (
                UPDATE reservations SET state = $\(binds.count - 1), closed_at = $\(binds.count)
                WHERE \(condition.sql) RETURNING account_id, amount),
            per_account AS (SELECT account_id, SUM(amount)::BIGINT AS micros, COUNT(*) AS calls FROM closed GROUP BY account_id),
            account AS (
                UPDATE accounts a SET held = a.held - p.micros, open_calls = a.open_calls - p.calls
                FROM per_account p WHERE a.id = p.account_id RETURNING a.id)
            SELECT COUNT(*) AS closed FROM closed
            """, binds: binds)
        return try await decodeAll(rows(query)) { try Columns($0).int("closed") }.first ?? 0
    }

    func find(_ key: String) async throws(LedgerError) -> Reservation? {
        try await reservations("SELECT \(unescaped: PostgresRows.reservationColumns) FROM reservations WHERE key = \(key)").first
    }

    func reservations(_ query: PostgresQuery) async throws(LedgerError) -> [Reservation] {
        try await decodeAll(rows(query), PostgresRows.reservation)
    }

    /// An account with the micros held and the calls open on it, to word a refusal.
    func holdingAccount(_ query: PostgresQuery) async throws(LedgerError) -> (account: Account, held: Int64, calls: Int)? {
        try await decodeAll(rows(query)) { row in
            let column = Columns(row)
            return (account: try PostgresRows.account(row), held: try column("held") as Int64, calls: try column.int("open_calls"))
        }.first
    }

    static let holdingColumns = PostgresRows.accountColumns + ", held, open_calls"

    static let qualifiedReservationColumns = PostgresRows.reservationColumns.split(separator: ",")
        .map { "r." + $0.trimmingCharacters(in: .whitespacesAndNewlines) }.joined(separator: ", ")
}
