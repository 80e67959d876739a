internal import GRDB
import RatingEngine

extension SQLiteLedgerStore {
    /// Checks the stored ledger against its invariants and against the book in memory.
    public func check() async throws(LedgerError) -> LedgerReport {
        let book = try read { $0 }
        return try query { db in
            var problems: [String] = []
            var storedBalance: [Int64: Int64] = [:]
            let accounts = try Row.fetchCursor(db, sql: "SELECT id, pin, balance FROM accounts ORDER BY id")
            while let row = try accounts.next() { storedBalance[row[0]] = row[2] }
            var sums: [Int64: Int64] = [:]
            let movementRows = try Row.fetchCursor(db, sql: "SELECT account_id, SUM(amount) FROM movements GROUP BY account_id")
            while let row = try movementRows.next() { sums[row[0]] = row[1] }
            for account in book.accounts {
                let stored = storedBalance[account.id]
                if stored == nil { problems.append("account \(account.pin) is not stored") }
                if let stored, stored != account.balance {
                    problems.append("account \(account.pin): stored balance \(stored) differs from memory \(account.balance)")
                }
                if let stored, stored != sums[account.id] ?? 0 {
                    problems.append("account \(account.pin): balance \(stored) is not the sum of its movements \(sums[account.id] ?? 0)")
                }
            }
            if storedBalance.count != book.accounts.count {
                problems.append("\(storedBalance.count) accounts stored, \(book.accounts.count) in memory")
            }
            // Each committed reservation debited exactly once, by its own cost.
            let doubled = try Row.fetchAll(db, sql: """
                SELECT reference, COUNT(*) FROM movements WHERE kind = 'call' GROUP BY reference HAVING COUNT(*) > 1
                """)
            for row in doubled { problems.append("reservation \(row[0] as String) was debited \(row[1] as Int) times") }
            let mismatched = try Row.fetchAll(db, sql: """
                SELECT r.key FROM reservations r LEFT JOIN movements m ON m.id = r.movement_id
                WHERE r.state = 'committed' AND (m.id IS NULL OR m.amount != -r.final_cost OR m.reference != r.key)
                """)
            for row in mismatched { problems.append("reservation \(row[0] as String) has no matching debit") }
            var held: [Int64: Int64] = [:]
            var openCount = 0
            var heldMicros: Int64 = 0
            // The start finds open reservations from the mark up only.
            let mark = try OpenReservationMark.stored(db)
            var belowMark = 0
            var open = try OpenReservationReader(db, from: 0)
            while let reservation = try open.next() {
                held[reservation.accountID, default: 0] += reservation.amount
                openCount += 1
                heldMicros += reservation.amount
                if reservation.id < mark { belowMark += 1 }
            }
            if belowMark > 0 { problems.append("\(belowMark) open reservations lie below the mark the start reads them from") }
            for (id, micros) in held where book.heldFor(id).micros != micros {
                problems.append("account \(id): \(micros) held on disk, \(book.heldFor(id).micros) in memory")
            }
            var byStatus: [AccountStatus: Int] = [:]
            var totals: [String: Int64] = [:]
            for account in book.accounts {
                byStatus[account.status, default: 0] += 1
                totals[account.currency.code, default: 0] += account.balance
            }
            let movementCount = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM movements") ?? 0
            return LedgerReport(accounts: book.accounts.count, byStatus: byStatus, movements: movementCount,
                                openReservations: openCount, heldMicros: heldMicros, overruns: book.overruns,
                                totalBalance: totals, problems: problems)
        }
    }
}
