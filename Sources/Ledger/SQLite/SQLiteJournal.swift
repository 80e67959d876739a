internal import GRDB
import Foundation
import RatingEngine

/// Writes a group of journal records in one transaction, the last state of each row in the
/// group only: new rows inserted (or upserted), stored ones updated in place; tables are
/// written in a fixed order.
enum SQLiteJournal {
    /// Returns the sealed secrets it wrote, for the store's copy in memory.
    @discardableResult
    static func write(_ records: [JournalRecord], to db: Database) throws -> [(accountID: Int64, sealed: Data)] {
        let group = JournalGroup(records)
        if !group.batches.isEmpty {
            let statement = try db.cachedStatement(sql: """
                INSERT OR REPLACE INTO batches VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            var writer = SQLiteRowWriter(statement, in: db)
            for (batch, terms) in group.batches.rows {
                let (days, until) = terms.validity.columns
                try writer.insert(
                    batch.id, batch.createdAt, batch.createdBy, batch.count, batch.faceValue.micros,
                    batch.faceValue.currency.code, batch.plan, batch.vouchers, batch.status.rawValue,
                    terms.activation.rawValue, days, until, terms.pinLength, terms.series
                )
            }
        }
        // New batches' accounts are inserted; any other account row is already stored, so it is
        // updated in place, which binds half the columns of the insert and skips its conflict.
        let issued = group.issued.lazy.flatMap(\.accounts)
        if !issued.isEmpty {
            var writer = SQLiteRowWriter(try db.cachedStatement(sql: accountUpsert), in: db)
            for account in issued { try insertAccount(account, with: &writer) }
        }
        if !group.accounts.isEmpty {
            var writer = SQLiteRowWriter(try db.cachedStatement(sql: """
                UPDATE accounts SET balance = ?, credit_limit = ?, plan = ?, status = ?, max_calls = ?, activated_at = ?,
                    expires_at = ?, last_recharge_at = ?, anis = ? WHERE id = ?
                """), in: db)
            var upsert = SQLiteRowWriter(try db.cachedStatement(sql: accountUpsert), in: db)
            for account in group.accounts.inKeyOrder {
                let updated = try writer.update(
                    account.balance, account.creditLimit, account.plan, account.status.rawValue, account.maxCalls,
                    account.activatedAt, account.expiresAt, account.lastRechargeAt, account.anis.joined(separator: ","), account.id
                )
                if !updated { try insertAccount(account, with: &upsert) }
            }
        }
        let secrets = try group.secretRows()
        if !secrets.isEmpty {
            let statement = try db.cachedStatement(sql: "INSERT OR REPLACE INTO secrets VALUES (?, ?)")
            var writer = SQLiteRowWriter(statement, in: db)
            for (id, sealed) in secrets { try writer.insert(id, sealed) }
        }
        if !group.vouchers.isEmpty {
            let statement = try db.cachedStatement(sql: "INSERT OR REPLACE INTO vouchers VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
            var writer = SQLiteRowWriter(statement, in: db)
            for voucher in group.vouchers.inKeyOrder {
                try writer.insert(
                    voucher.code, voucher.batchID, voucher.value.micros, voucher.value.currency.code,
                    voucher.status.rawValue, voucher.redeemedBy, voucher.redeemedAt, voucher.expiresAt
                )
            }
        }
        let movements = group.movementRows
        if !movements.isEmpty {
            let statement = try db.cachedStatement(sql: "INSERT INTO movements VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
            var writer = SQLiteRowWriter(statement, in: db)
            for movement in movements {
                try writer.insert(
                    movement.id, movement.accountID, movement.amount, movement.kind.rawValue,
                    movement.method?.rawValue, movement.reference, movement.actor, movement.at
                )
            }
        }
        if !group.reservations.isEmpty {
            // Reservations are numbered in the order they are made: one at or below the highest
            // number stored is updated in place (most are a call's Stop), the others inserted;
            // one newer than any stored or packed and still open is packed (`OpenedReservations`).
            let stored = try Int64.fetchOne(db.cachedStatement(sql: "SELECT max(id) FROM reservations")) ?? 0
            let written = max(stored, try OpenedReservations.highestPacked(db))
            var opened: [Reservation] = []
            var update = SQLiteRowWriter(try db.cachedStatement(sql: """
                UPDATE reservations SET amount = ?, expires_at = ?, state = ?, final_cost = ?, closed_at = ?, details = ?,
                    movement_id = ? WHERE id = ?
                """), in: db)
            var insert = SQLiteRowWriter(try db.cachedStatement(sql: """
                INSERT INTO reservations VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (id) DO UPDATE SET amount = excluded.amount, expires_at = excluded.expires_at,
                    state = excluded.state, final_cost = excluded.final_cost, closed_at = excluded.closed_at,
                    details = excluded.details, movement_id = excluded.movement_id
                """), in: db)
            for reservation in group.reservations.inKeyOrder {
                if reservation.id > written, OpenedReservations.packs(reservation) {
                    opened.append(reservation)
                    continue
                }
                if reservation.id <= stored, try update.update(
                    reservation.amount, reservation.expiresAt, reservation.state.rawValue, reservation.finalCost,
                    reservation.closedAt, reservation.details, reservation.movementID, reservation.id
                ) {
                    continue
                }
                try insert.insert(
                    reservation.id, reservation.key, reservation.accountID, reservation.amount, reservation.nas, reservation.number,
                    reservation.destination, reservation.openedAt, reservation.expiresAt, reservation.state.rawValue,
                    reservation.finalCost, reservation.closedAt, reservation.details, reservation.movementID
                )
            }
            try OpenedReservations.write(opened, to: db)
        }
        if !group.audits.isEmpty {
            let statement = try db.cachedStatement(sql: "INSERT INTO audit VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
            var writer = SQLiteRowWriter(statement, in: db)
            for entry in group.audits {
                try writer.insert(
                    entry.id, entry.at, entry.actor, entry.address, entry.entity, entry.entityID, entry.action,
                    entry.oldValue, entry.newValue
                )
            }
        }
        return secrets
    }

    private static let accountUpsert = """
        INSERT INTO accounts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (id) DO UPDATE SET balance = excluded.balance, credit_limit = excluded.credit_limit,
            plan = excluded.plan, status = excluded.status, max_calls = excluded.max_calls,
            activated_at = excluded.activated_at, expires_at = excluded.expires_at,
            last_recharge_at = excluded.last_recharge_at, anis = excluded.anis
        """

    /// A whole account row; an update rewrites only the columns that can change, so the PIN
    /// index is left alone (REPLACE would delete and reinsert it).
    private static func insertAccount(_ account: Account, with writer: inout SQLiteRowWriter) throws {
        let (days, until) = account.validity.columns
        try writer.insert(
            account.id, account.pin, account.kind.rawValue, account.currency.code, account.balance,
            account.creditLimit, account.plan, account.status.rawValue, account.maxCalls, account.batchID,
            account.activation.rawValue, days, until, account.createdAt, account.activatedAt,
            account.expiresAt, account.lastRechargeAt, account.anis.joined(separator: ",")
        )
    }
}
