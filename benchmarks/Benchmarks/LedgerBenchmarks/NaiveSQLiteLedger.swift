import GRDB

/// The baseline: what a FreeRADIUS + SQL script does, one transaction (and one fsync) per
/// operation, on the same SQLite database, schema and durability settings as the store.
struct NaiveSQLiteLedger: Sendable {
    let pool: DatabasePool

    init(path: String) throws {
        pool = try DatabasePool(path: path)
        // After the pool is open: GRDB turns a pool's writer to NORMAL when it sets up WAL.
        try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
    }

    func pair(pin: String, key: Int) async throws {
        let key = "naive-\(key)"
        try await pool.write { db in
            guard let account = try Row.fetchOne(db, sql: "SELECT id, balance, credit_limit FROM accounts WHERE pin = ?",
                                                 arguments: [pin]) else { fatalError("seeded PIN missing") }
            let id: Int64 = account[0]
            let held = try Int64.fetchOne(db, sql: "SELECT COALESCE(SUM(amount), 0) FROM reservations WHERE account_id = ? AND state = 'open'",
                                          arguments: [id]) ?? 0
            guard (account[1] as Int64) + (account[2] as Int64) - held >= 1_000_000 else { fatalError("cannot afford") }
            try db.execute(sql: """
                INSERT INTO reservations (key, account_id, amount, nas, number, destination, opened_at, expires_at, state, details)
                VALUES (?, ?, 1000000, 'bench', '', '', ?, ?, 'open', '')
                """, arguments: [key, id, benchmarkNow, benchmarkNow + 3_600])
        }
        try await pool.write { db in
            guard let reservation = try Row.fetchOne(db, sql: "SELECT account_id, state FROM reservations WHERE key = ?",
                                                     arguments: [key]) else { fatalError("reservation missing") }
            let id: Int64 = reservation[0]
            try db.execute(sql: "INSERT INTO movements (account_id, amount, kind, reference, actor, at) VALUES (?, -420000, 'call', ?, 'nas:bench', ?)",
                           arguments: [id, key, benchmarkNow + 60])
            try db.execute(sql: "UPDATE accounts SET balance = balance - 420000 WHERE id = ?", arguments: [id])
            try db.execute(sql: "UPDATE reservations SET state = 'committed', final_cost = 420000, closed_at = ?, movement_id = ? WHERE key = ?",
                           arguments: [benchmarkNow + 60, db.lastInsertedRowID, key])
        }
    }
}
