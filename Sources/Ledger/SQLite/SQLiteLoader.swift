internal import GRDB
import Foundation
import RatingEngine

/// Rebuilds the book from the database at start: the whole ledger lives in memory, the database
/// is its durable journal.
enum SQLiteLoader {
    static func load(_ db: Database, now: Int64) throws -> LedgerBook {
        var book = LedgerBook()
        let batches = try Row.fetchCursor(db, sql: "SELECT * FROM batches ORDER BY id")
        while let row = try batches.next() {
            let currency = try Currency(row["currency"] as String)
            let batch = Batch(id: row["id"], createdAt: row["created_at"], createdBy: row["created_by"], count: row["count"],
                              faceValue: Money(micros: row["face_value"], currency: currency), plan: row["plan"],
                              vouchers: row["vouchers"], status: try parseColumn(row["status"], "batches.status"))
            let terms = BatchTerms(activation: try parseColumn(row["activation"], "batches.activation"),
                                   validity: Validity(days: row["validity_days"], until: row["valid_until"]),
                                   pinLength: row["pin_length"], series: row["series"])
            book.load(batch, terms: terms)
        }
        var currencies: [String: Currency] = [:]
        let accounts = try Row.fetchCursor(db, sql: "SELECT * FROM accounts ORDER BY id")
        while let row = try accounts.next() {
            // Column indexes follow the CREATE TABLE order; positional reads keep a million-row start quick.
            let code: String = row[3]
            let currency: Currency
            if let known = currencies[code] { currency = known } else {
                currency = try Currency(code)
                currencies[code] = currency
            }
            let anis: String = row[17]
            book.load(Account(
                id: row[0], pin: row[1], kind: try parseColumn(row[2], "accounts.kind"), currency: currency, balance: row[4],
                creditLimit: row[5], plan: row[6], status: try parseColumn(row[7], "accounts.status"), maxCalls: row[8],
                batchID: row[9], activation: try parseColumn(row[10], "accounts.activation"),
                validity: Validity(days: row[11], until: row[12]), createdAt: row[13], activatedAt: row[14],
                expiresAt: row[15], lastRechargeAt: row[16],
                anis: anis.isEmpty ? [] : anis.split(separator: ",").map(String.init)))
        }
        let vouchers = try Row.fetchCursor(db, sql: "SELECT * FROM vouchers")
        while let row = try vouchers.next() {
            book.load(Voucher(code: row["code"], batchID: row["batch_id"],
                              value: Money(micros: row["value"], currency: try Currency(row["currency"] as String)),
                              status: try parseColumn(row["status"], "vouchers.status"), redeemedBy: row["redeemed_by"],
                              redeemedAt: row["redeemed_at"], expiresAt: row["expires_at"]))
        }
        // Closed reservations older than the book's memory stay on disk only; a retry that old is
        // unknown. Those closed within it but longer ago than an hour are loaded settled. Both in
        // the order made, about the order closed in, which the sweep forgets them by.
        let (forgotten, settled) = (now - LedgerBook.closedReservationMemorySeconds, now - LedgerBook.wholeReservationMemorySeconds)
        let oldestOpen = try OpenReservationMark.stored(db)
        // Packed entries are counted as numbered: the count is for room, and an entry closed since is room spare.
        let openCount = try Int.fetchOne(db, sql: """
            SELECT (SELECT COUNT(*) FROM reservations WHERE id >= ?1 AND state = 'open')
                + (SELECT COALESCE(SUM(last_id - first_id + 1), 0) FROM reservations_opened WHERE \(OpenedReservations.reaching))
            """, arguments: [oldestOpen]) ?? 0
        let closedCount = try Int.fetchOne(db, sql: """
            SELECT COUNT(*) FROM reservations INDEXED BY reservations_closed WHERE state <> 'open' AND closed_at >= ?
            """, arguments: [forgotten]) ?? 0
        // Room for one more reservation per account (virtual memory until used) before the table grows.
        book.reserveCapacity(reservations: openCount + closedCount + book.accounts.count)
        let settledRows = try Row.fetchCursor(db, sql: """
            SELECT id, key, closed_at, final_cost, amount FROM reservations INDEXED BY reservations_closed
            WHERE state <> 'open' AND closed_at >= ? AND closed_at < ? ORDER BY id
            """, arguments: [forgotten, settled])
        while let row = try settledRows.next() {
            book.loadSettled(id: row[0], key: row[1], closedAt: row[2], isOverrun: Reservation.isOverrun(finalCost: row[3], amount: row[4]))
        }
        // Two reads, each in the order made, merged: one query with both conditions scans the table.
        var open = try OpenReservationReader(db, from: oldestOpen)
        // The index is named: with no statistics SQLite prefers walking the whole table in id order.
        let recent = try Row.fetchCursor(db, sql: """
            SELECT * FROM reservations INDEXED BY reservations_closed WHERE state <> 'open' AND closed_at >= ? ORDER BY id
            """, arguments: [settled])
        var (nextOpen, nextRecent) = (try open.next(), try recent.next().map(reservation))
        while nextOpen != nil || nextRecent != nil {
            if let row = nextOpen, nextRecent.map({ row.id < $0.id }) ?? true {
                book.load(row)
                nextOpen = try open.next()
            } else if let row = nextRecent {
                book.load(row)
                nextRecent = try recent.next().map(reservation)
            }
        }
        let movementID = try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(id), 0) FROM movements") ?? 0
        let auditID = try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(id), 0) FROM audit") ?? 0
        let reservationID = try OpenedReservations.highestWritten(db)
        book.setCounters(nextMovementID: movementID + 1, nextAuditID: auditID + 1, nextReservationID: reservationID + 1)
        return book
    }

    static func reservation(_ row: Row) throws -> Reservation {
        Reservation(id: row["id"], key: row["key"], accountID: row["account_id"], amount: row["amount"], nas: row["nas"],
                    number: row["number"], destination: row["destination"], openedAt: row["opened_at"],
                    expiresAt: row["expires_at"], state: try parseColumn(row["state"], "reservations.state"),
                    finalCost: row["final_cost"], closedAt: row["closed_at"], details: row["details"],
                    movementID: row["movement_id"])
    }

    static func movement(_ row: Row) throws -> Movement {
        let method: String? = row["method"]
        return Movement(id: row["id"], accountID: row["account_id"], amount: row["amount"],
                        kind: try parseColumn(row["kind"], "movements.kind"),
                        method: try method.map { try parseColumn($0, "movements.method") }, reference: row["reference"],
                        actor: row["actor"], at: row["at"])
    }
}
