internal import GRDB

/// The size of the writer connection's page cache. SQLite ends every write transaction by dropping
/// cached pages past the end of the file; when a B-tree rebalance in that transaction swapped two
/// pages (it parks one at the lock-byte page's number, 262,145 with 4 KiB pages, far past the
/// end), that drop walks every page in the cache. Inserts into an index at random make such a
/// swap in nearly every commit: with a 256 MiB cache grown warm, accounting at the benchmark's
/// peak spent about 9 % of all its CPU in that walk. Serving therefore keeps the cache small, and
/// only a group large enough to need more (a batch of cards, whose PIN index it touches at
/// random) gets a large cache for its one transaction.
enum WriterCache {
    static let servingKiB = 4_096
    static let largeKiB = 262_144
    static let largeGroupRows = 10_000

    static func isLarge(_ records: [JournalRecord]) -> Bool {
        var rows = 0
        for record in records {
            if case .issued(let batch) = record { rows += batch.accounts.count + batch.movements.count } else { rows += 1 }
            if rows >= largeGroupRows { return true }
        }
        return false
    }

    static func use(_ kibibytes: Int, on db: Database) throws {
        try db.execute(sql: "PRAGMA cache_size = -\(kibibytes)")
    }
}
