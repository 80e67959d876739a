package import Foundation

/// A group of journal records reduced to what a store must write: the last state of each
/// whole row (accounts, reservations, batches, vouchers, secrets) and every appended row.
package struct JournalGroup {
    package var accounts = LatestRows<Int64, Account>()
    package var reservations = LatestRows<Int64, Reservation>()
    package var batches = LatestRows<Int64, (Batch, BatchTerms)>()
    package var vouchers = LatestRows<String, Voucher>()
    package var secrets = LatestRows<Int64, (accountID: Int64, sealed: Data)>()
    package var movements: [Movement] = []
    package var audits: [AuditEntry] = []
    /// New batches' rows; the `...Rows` views below put them first.
    package var issued: [IssuedRows] = []

    /// Account rows to write: new batches' first (any later record of the same group for one
    /// of them then comes after it and wins), then the last state of the others in key order.
    package var accountRows: FlattenSequence<[[Account]]> { (issued.map(\.accounts) + [accounts.inKeyOrder]).joined() }

    package var movementRows: FlattenSequence<[[Movement]]> { (issued.map(\.movements) + [movements]).joined() }

    /// Secret rows to write, new batches' first, once their sealing has finished.
    package func secretRows() throws(LedgerError) -> [(accountID: Int64, sealed: Data)] {
        var rows: [(accountID: Int64, sealed: Data)] = []
        for batch in issued {
            rows += zip(batch.accounts, try batch.secrets.sealed()).map { ($0.id, $1) }
        }
        return rows + secrets.inKeyOrder
    }

    package init(_ records: [JournalRecord]) {
        for record in records {
            switch record {
            case .account(let account): accounts.keep(account, key: account.id)
            case .reservation(let reservation): reservations.keep(reservation, key: reservation.id)
            case .batch(let batch, let terms): batches.keep((batch, terms), key: batch.id)
            case .voucher(let voucher): vouchers.keep(voucher, key: voucher.code)
            case .secret(let id, let sealed): secrets.keep((id, sealed), key: id)
            case .movement(let movement): movements.append(movement)
            case .audit(let entry): audits.append(entry)
            case .issued(let rows): issued.append(rows)
            }
        }
    }
}

/// The last state of each row, in the order the rows first appeared. A batch of a million cards
/// arrives in ascending key order: while keys only ascend, a row is found by binary search and
/// written without a sort; the first key out of order builds a dictionary.
package struct LatestRows<Key: Hashable & Comparable, Row> {
    package private(set) var rows: [Row] = []
    private var keys: [Key] = []
    private var slots: [Key: Int]?

    package var isEmpty: Bool { rows.isEmpty }

    mutating func keep(_ row: Row, key: Key) {
        if slots == nil, let last = keys.last, key <= last {
            if let slot = ascendingSlot(of: key) {
                rows[slot] = row
                return
            }
            slots = Dictionary(uniqueKeysWithValues: zip(keys, keys.indices))
        }
        if let slot = slots?[key] {
            rows[slot] = row
            return
        }
        slots?[key] = rows.count
        keys.append(key)
        rows.append(row)
    }

    /// The rows in ascending key order: B-tree inserts in key order stay on the same pages.
    package var inKeyOrder: [Row] {
        guard slots != nil else { return rows }
        return keys.indices.sorted { keys[$0] < keys[$1] }.map { rows[$0] }
    }

    private func ascendingSlot(of key: Key) -> Int? {
        var (low, high) = (0, keys.count)
        while low < high {
            let middle = (low + high) / 2
            if keys[middle] < key { low = middle + 1 } else { high = middle }
        }
        return low < keys.count && keys[low] == key ? low : nil
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
