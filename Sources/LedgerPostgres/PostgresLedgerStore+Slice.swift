import Foundation
import Ledger
import Logging
import PostgresNIO
import RatingEngine

/// What one book-rule transaction locks before it decides.
struct SliceRequest: Sendable {
    var pin: String?
    var voucher: String?
    var ani: String?
    var batch: Int64?
}

extension PostgresLedgerStore {
    /// Locks the rows `request` names, loads them into a book slice, applies `rule` to it (the
    /// same code the embedded store runs) and writes what changed, all in one transaction.
    /// Returns the rule's result and the ids the database gave its movements.
    func withSlice<T: Sendable>(_ request: SliceRequest, firstAccountID: Int64 = 1,
                                _ rule: @escaping @Sendable (inout LedgerBook) throws(LedgerError) -> T)
        async throws(LedgerError) -> (T, [Int64])
    {
        let logger = logger
        return try await transaction { connection in
            var book = try await Self.slice(request, on: connection, logger: logger)
            let result = try rule(&book)
            let ids = try await PostgresJournal.write(book.drainRecords(), on: connection, logger: logger)
            return (result, ids)
        }
    }

    static func slice(_ request: SliceRequest, on connection: PostgresConnection, logger: Logger) async throws -> LedgerBook {
        var account: Account?
        if let pin = request.pin {
            let rows = try await connection.query(
                "SELECT \(unescaped: PostgresRows.accountColumns) FROM accounts WHERE pin = \(pin) FOR UPDATE", logger: logger).collect()
            account = try rows.first.map(PostgresRows.account)
        }
        var batch: (Batch, BatchTerms)?
        if let id = request.batch {
            let rows = try await connection.query("SELECT * FROM batches WHERE id = \(id) FOR UPDATE", logger: logger).collect()
            batch = try rows.first.map(PostgresRows.batch)
        }
        var book = LedgerBook(firstAccountID: account?.id ?? 1, firstBatchID: batch?.0.id ?? 1)
        if let account { book.load(account) }
        if let (batch, terms) = batch { book.load(batch, terms: terms) }
        if let code = request.voucher {
            let rows = try await connection.query("SELECT * FROM vouchers WHERE code = \(code) FOR UPDATE", logger: logger).collect()
            if let row = rows.first { book.load(try PostgresRows.voucher(row)) }
        }
        if let ani = request.ani {
            let rows = try await connection.query("""
                SELECT a.pin FROM account_anis b JOIN accounts a ON a.id = b.account_id WHERE b.ani = \(ani)
                """, logger: logger).collect()
            if let row = rows.first { book.loadForeignANI(ani, pin: try Columns(row)("pin")) }
        }
        return book
    }

    /// A movement as the caller should see it: with the id the database gave it.
    static func stored(_ movement: Movement, ids: [Int64]) -> Movement {
        var movement = movement
        if let id = ids.last { movement.id = id }
        return movement
    }
}
