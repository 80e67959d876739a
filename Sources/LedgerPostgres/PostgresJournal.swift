import Foundation
import Ledger
import Logging
import PostgresNIO
import RatingEngine

/// Writes a book slice's records inside the caller's transaction: whole rows as multi-row
/// upserts (a million-card batch is a few hundred statements), appended rows as inserts.
/// Movement and audit ids come from the database's sequences, as several nodes append them.
enum PostgresJournal {
    /// PostgreSQL takes at most 65,535 parameters per statement.
    static let maximumBinds = 60_000

    /// Returns the ids the database gave the movements: new batches' first, then the others in
    /// record order.
    static func write(_ records: [JournalRecord], on connection: PostgresConnection, logger: Logger) async throws -> [Int64] {
        let group = JournalGroup(records)
        try await upsert(on: connection, logger: logger, table: "batches", columns: """
            id, created_at, created_by, count, face_value, currency, plan, vouchers, status, activation, validity_days,
            valid_until, pin_length, series
            """, conflict: "id", rows: group.batches.inKeyOrder) { binds, row in
            let (batch, terms) = row
            let (days, until) = terms.validity.columns
            binds.append(batch.id); binds.append(batch.createdAt); binds.append(batch.createdBy); binds.append(Int64(batch.count))
            binds.append(batch.faceValue.micros); binds.append(batch.faceValue.currency.code); binds.append(batch.plan)
            binds.append(batch.vouchers); binds.append(batch.status.rawValue); binds.append(terms.activation.rawValue)
            binds.append(days.map(Int64.init)); binds.append(until); binds.append(Int64(terms.pinLength)); binds.append(terms.series)
        }
        // held and open_calls are not in the book's rows: the reservation statements own them.
        try await upsert(on: connection, logger: logger, table: "accounts", columns: """
            id, pin, kind, currency, balance, credit_limit, plan, status, max_calls, batch_id, activation, validity_days,
            valid_until, created_at, activated_at, expires_at, last_recharge_at, anis
            """, conflict: "id", rows: Array(group.accountRows)) { binds, account in
            let (days, until) = account.validity.columns
            binds.append(account.id); binds.append(account.pin); binds.append(account.kind.rawValue)
            binds.append(account.currency.code); binds.append(account.balance); binds.append(account.creditLimit)
            binds.append(account.plan); binds.append(account.status.rawValue); binds.append(Int64(account.maxCalls))
            binds.append(account.batchID); binds.append(account.activation.rawValue); binds.append(days.map(Int64.init))
            binds.append(until); binds.append(account.createdAt); binds.append(account.activatedAt)
            binds.append(account.expiresAt); binds.append(account.lastRechargeAt); binds.append(account.anis)
        }
        // A caller ID belongs to one account: the table's key refuses a second owner.
        for account in group.accounts.rows where !account.anis.isEmpty {
            try await connection.query("""
                INSERT INTO account_anis (ani, account_id) SELECT ani, \(account.id) FROM unnest(\(account.anis)::TEXT[]) AS ani
                WHERE NOT EXISTS (SELECT 1 FROM account_anis b WHERE b.ani = ani AND b.account_id = \(account.id))
                """, logger: logger)
        }
        try await upsert(on: connection, logger: logger, table: "secrets", columns: "account_id, sealed", conflict: "account_id",
                         rows: try group.secretRows()) { binds, secret in
            binds.append(secret.accountID); try binds.append(secret.sealed)
        }
        try await upsert(on: connection, logger: logger, table: "vouchers", columns: """
            code, batch_id, value, currency, status, redeemed_by, redeemed_at, expires_at
            """, conflict: "code", rows: group.vouchers.inKeyOrder) { binds, voucher in
            binds.append(voucher.code); binds.append(voucher.batchID); binds.append(voucher.value.micros)
            binds.append(voucher.value.currency.code); binds.append(voucher.status.rawValue); binds.append(voucher.redeemedBy)
            binds.append(voucher.redeemedAt); binds.append(voucher.expiresAt)
        }
        let movementIDs = try await upsert(on: connection, logger: logger, table: "movements", columns: """
            account_id, amount, kind, method, reference, actor, at
            """, conflict: nil, rows: Array(group.movementRows)) { binds, movement in
            binds.append(movement.accountID); binds.append(movement.amount); binds.append(movement.kind.rawValue)
            binds.append(movement.method?.rawValue); binds.append(movement.reference); binds.append(movement.actor)
            binds.append(movement.at)
        }
        try await upsert(on: connection, logger: logger, table: "audit", columns: """
            at, actor, address, entity, entity_id, action, old_value, new_value
            """, conflict: nil, rows: group.audits) { binds, entry in
            binds.append(entry.at); binds.append(entry.actor); binds.append(entry.address); binds.append(entry.entity)
            binds.append(entry.entityID); binds.append(entry.action); binds.append(entry.oldValue); binds.append(entry.newValue)
        }
        return movementIDs
    }

    /// Inserts `rows` (replacing on `conflict` when given) in as few statements as the parameter
    /// limit allows; returns the `id`s of plain inserts, in order.
    @discardableResult
    private static func upsert<Row>(on connection: PostgresConnection, logger: Logger, table: String, columns: String,
                                    conflict: String?, rows: [Row], bind: (inout PostgresBindings, Row) throws -> Void)
        async throws -> [Int64]
    {
        guard !rows.isEmpty else { return [] }
        let names = columns.split(separator: ",").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        let perStatement = maximumBinds / names.count
        let tail: String
        if let conflict {
            let updates = names.filter { $0 != conflict }.map { "\($0) = EXCLUDED.\($0)" }.joined(separator: ", ")
            tail = " ON CONFLICT (\(conflict)) DO UPDATE SET \(updates)"
        } else {
            tail = " RETURNING id"
        }
        var ids: [Int64] = []
        var start = 0
        while start < rows.count {
            let chunk = rows[start..<min(start + perStatement, rows.count)]
            var binds = PostgresBindings(capacity: chunk.count * names.count)
            var sql = "INSERT INTO \(table) (\(names.joined(separator: ", "))) VALUES "
            sql.reserveCapacity(chunk.count * names.count * 7)
            for (offset, row) in chunk.enumerated() {
                let first = offset * names.count
                sql += offset == 0 ? "(" : ", ("
                sql += (1...names.count).map { "$\(first + $0)" }.joined(separator: ", ")
                sql += ")"
                try bind(&binds, row)
            }
            let result = try await connection.query(PostgresQuery(unsafeSQL: sql + tail, binds: binds), logger: logger)
            if conflict == nil {
                for try await id in result.decode(Int64.self) { ids.append(id) }
            } else {
                for try await _ in result {}
            }
            start += chunk.count
        }
        return ids
    }
}
