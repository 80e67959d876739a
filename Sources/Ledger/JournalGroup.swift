package import Foundation

/// A group of journal records reduced to what a store must write: the last state of each
/// whole row (accounts, reservations, batches, vouchers, secrets) and every appended row.
package struct JournalGroup {
    package var accounts: [Int64: Account] = [:]
    package var reservations: [String: Reservation] = [:]
    package var batches: [Int64: (Batch, BatchTerms)] = [:]
    package var vouchers: [String: Voucher] = [:]
    package var secrets: [Int64: Data] = [:]
    package var movements: [Movement] = []
    package var audits: [AuditEntry] = []

    package init(_ records: [JournalRecord]) {
        for record in records {
            switch record {
            case .account(let account): accounts[account.id] = account
            case .reservation(let reservation): reservations[reservation.key] = reservation
            case .batch(let batch, let terms): batches[batch.id] = (batch, terms)
            case .voucher(let voucher): vouchers[voucher.code] = voucher
            case .secret(let id, let sealed): secrets[id] = sealed
            case .movement(let movement): movements.append(movement)
            case .audit(let entry): audits.append(entry)
            }
        }
    }
}

extension Validity {
    /// `(validity_days, valid_until)` columns.
    package var columns: (Int?, Int64?) {
        switch self {
        case .days(let days): (days, nil)
        case .until(let instant): (nil, instant)
        }
    }

    package init(days: Int?, until: Int64?) {
        if let until { self = .until(until) } else { self = .days(days ?? Validity.defaultDays) }
    }
}

/// Reads an enumeration stored as text, naming the column when the text is not one of its values.
package func parseColumn<T: RawRepresentable>(_ text: String, _ column: String) throws(LedgerError) -> T
where T.RawValue == String {
    guard let value = T(rawValue: text) else { throw .storage("bad value \(text) in \(column)") }
    return value
}
