public import Ledger
import PostgresNIO

extension PostgresLedgerStore {
    /// Checks the stored ledger against its invariants, on one consistent snapshot.
    public func check() async throws(LedgerError) -> LedgerReport {
        let logger = logger
        return try await transaction { connection in
            try await connection.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY", logger: logger)
            func all(_ query: PostgresQuery) async throws -> [Columns] {
                try await connection.query(query, logger: logger).collect().map(Columns.init)
            }
            var problems: [String] = []
            for row in try await all("""
                SELECT a.pin, a.balance, COALESCE(m.total, 0)::BIGINT AS total FROM accounts a
                LEFT JOIN (SELECT account_id, SUM(amount) AS total FROM movements GROUP BY account_id) m ON m.account_id = a.id
                WHERE a.balance <> COALESCE(m.total, 0)
                """) {
                problems.append("account \(try row("pin") as String): balance \(try row("balance") as Int64) is not the sum of its movements \(try row("total") as Int64)")
            }
            for row in try await all("""
                SELECT reference, COUNT(*) AS debits FROM movements WHERE kind = 'call' GROUP BY reference HAVING COUNT(*) > 1
                """) {
                problems.append("reservation \(try row("reference") as String) was debited \(try row("debits") as Int64) times")
            }
            for row in try await all("""
                SELECT r.key FROM reservations r LEFT JOIN movements m ON m.id = r.movement_id
                WHERE r.state = 'committed' AND (m.id IS NULL OR m.amount <> -r.final_cost OR m.reference <> r.key)
                """) {
                problems.append("reservation \(try row("key") as String) has no matching debit")
            }
            for row in try await all("""
                SELECT a.pin, a.held, COALESCE(r.micros, 0)::BIGINT AS micros FROM accounts a
                LEFT JOIN (SELECT account_id, SUM(amount) AS micros, COUNT(*) AS calls FROM reservations
                           WHERE state = 'open' GROUP BY account_id) r ON r.account_id = a.id
                WHERE a.held <> COALESCE(r.micros, 0) OR a.open_calls <> COALESCE(r.calls, 0)
                """) {
                problems.append("account \(try row("pin") as String): \(try row("held") as Int64) held, open reservations hold \(try row("micros") as Int64)")
            }
            var byStatus: [AccountStatus: Int] = [:]
            var accounts = 0
            for row in try await all("SELECT status, COUNT(*) AS accounts FROM accounts GROUP BY status") {
                let count = try row.int("accounts")
                byStatus[try row.enumeration("status"), default: 0] += count
                accounts += count
            }
            var totals: [String: Int64] = [:]
            for row in try await all("SELECT currency, SUM(balance)::BIGINT AS total FROM accounts GROUP BY currency") {
                totals[try row("currency")] = try row("total")
            }
            let summary = try await all("""
                SELECT (SELECT COUNT(*) FROM movements) AS movements,
                       (SELECT COUNT(*) FROM reservations WHERE state = 'open') AS open,
                       (SELECT COALESCE(SUM(amount), 0)::BIGINT FROM reservations WHERE state = 'open') AS held,
                       (SELECT COUNT(*) FROM reservations WHERE state = 'committed' AND final_cost > amount) AS overruns
                """)
            guard let counts = summary.first else { throw LedgerError.storage("no summary row") }
            return LedgerReport(accounts: accounts, byStatus: byStatus, movements: try counts.int("movements"),
                                openReservations: try counts.int("open"), heldMicros: try counts("held"),
                                overruns: try counts.int("overruns"), totalBalance: totals, problems: problems)
        }
    }
}
