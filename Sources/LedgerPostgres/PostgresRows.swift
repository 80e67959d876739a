import Foundation
import Ledger
import PostgresNIO
import RatingEngine

/// Reads the ledger's values out of PostgreSQL rows, by column name.
struct Columns {
    private let row: PostgresRandomAccessRow

    init(_ row: PostgresRow) { self.row = row.makeRandomAccess() }

    func callAsFunction<T: PostgresDecodable>(_ name: String) throws -> T { try row[name].decode(T.self) }

    func int(_ name: String) throws -> Int {
        let value: Int64 = try self(name)
        guard let int = Int(exactly: value) else { throw LedgerError.storage("\(name) \(value) is out of range") }
        return int
    }

    func enumeration<T: RawRepresentable>(_ name: String) throws -> T where T.RawValue == String {
        try parseColumn(try self(name), name)
    }
}

enum PostgresRows {
    static let accountColumns = """
        id, pin, kind, currency, balance, credit_limit, plan, status, max_calls, batch_id, activation, validity_days,
        valid_until, created_at, activated_at, expires_at, last_recharge_at, anis
        """
    static let reservationColumns = """
        id, key, account_id, amount, nas, number, destination, opened_at, expires_at, state, final_cost, closed_at, details, movement_id
        """

    static func account(_ row: PostgresRow) throws -> Account {
        let column = Columns(row)
        let days: Int64? = try column("validity_days")
        return Account(
            id: try column("id"), pin: try column("pin"), kind: try column.enumeration("kind"),
            currency: try Currency(try column("currency") as String), balance: try column("balance"),
            creditLimit: try column("credit_limit"), plan: try column("plan"), status: try column.enumeration("status"),
            maxCalls: try column.int("max_calls"), batchID: try column("batch_id"), activation: try column.enumeration("activation"),
            validity: Validity(days: days.flatMap { Int(exactly: $0) }, until: try column("valid_until")),
            createdAt: try column("created_at"), activatedAt: try column("activated_at"), expiresAt: try column("expires_at"),
            lastRechargeAt: try column("last_recharge_at"), anis: try column("anis"))
    }

    static func batch(_ row: PostgresRow) throws -> (Batch, BatchTerms) {
        let column = Columns(row)
        let days: Int64? = try column("validity_days")
        let batch = Batch(id: try column("id"), createdAt: try column("created_at"), createdBy: try column("created_by"),
                          count: try column.int("count"),
                          faceValue: Money(micros: try column("face_value"), currency: try Currency(try column("currency") as String)),
                          plan: try column("plan"), vouchers: try column("vouchers"), status: try column.enumeration("status"))
        let terms = BatchTerms(activation: try column.enumeration("activation"),
                               validity: Validity(days: days.flatMap { Int(exactly: $0) }, until: try column("valid_until")),
                               pinLength: try column.int("pin_length"), series: try column("series"))
        return (batch, terms)
    }

    static func voucher(_ row: PostgresRow) throws -> Voucher {
        let column = Columns(row)
        return Voucher(code: try column("code"), batchID: try column("batch_id"),
                       value: Money(micros: try column("value"), currency: try Currency(try column("currency") as String)),
                       status: try column.enumeration("status"), redeemedBy: try column("redeemed_by"),
                       redeemedAt: try column("redeemed_at"), expiresAt: try column("expires_at"))
    }

    static func reservation(_ row: PostgresRow) throws -> Reservation {
        let column = Columns(row)
        return Reservation(id: try column("id"), key: try column("key"), accountID: try column("account_id"), amount: try column("amount"),
                           nas: try column("nas"), number: try column("number"), destination: try column("destination"),
                           openedAt: try column("opened_at"), expiresAt: try column("expires_at"),
                           state: try column.enumeration("state"), finalCost: try column("final_cost"),
                           closedAt: try column("closed_at"), details: try column("details"), movementID: try column("movement_id"))
    }

    static func movement(_ row: PostgresRow) throws -> Movement {
        let column = Columns(row)
        let method: String? = try column("method")
        return Movement(id: try column("id"), accountID: try column("account_id"), amount: try column("amount"),
                        kind: try column.enumeration("kind"), method: try method.map { try parseColumn($0, "method") },
                        reference: try column("reference"), actor: try column("actor"), at: try column("at"))
    }

    static func audit(_ row: PostgresRow) throws -> AuditEntry {
        let column = Columns(row)
        return AuditEntry(id: try column("id"), at: try column("at"), actor: try column("actor"), address: try column("address"),
                          entity: try column("entity"), entityID: try column("entity_id"), action: try column("action"),
                          oldValue: try column("old_value"), newValue: try column("new_value"))
    }
}
