internal import GRDB
import Foundation

/// New open reservations are written packed, one `reservations_opened` row per write of the
/// group-commit writer, instead of a `reservations` row each. At the benchmark's PAP peak each
/// answer is a new reservation, and SQLite's work per inserted row (the statement's step, the
/// B-tree cell, its share of the commit) was about a third of the writer's CPU; in alternated
/// trials at 1024 in flight packing cut the server's CPU per request by a tenth (issue 4's
/// notes). A reservation gets its `reservations` row the first time it changes, which is its
/// close, and that row then supersedes the packed entry; once the mark of the oldest open
/// reservation has passed a packed row, the writes that follow delete it, a few rows each.
enum OpenedReservations {
    /// A string longer than a length field holds stays a row of its own.
    static func packs(_ reservation: Reservation) -> Bool {
        func fits(_ text: String) -> Bool { text.utf8.count <= Int(UInt16.max) }
        return reservation.state == .open && reservation.finalCost == nil && reservation.closedAt == nil
            && reservation.movementID == nil && fits(reservation.key) && fits(reservation.nas) && fits(reservation.number)
            && fits(reservation.destination) && fits(reservation.details)
    }

    /// Entries in the order given: five integers, then five strings each after its length.
    static func pack(_ reservations: [Reservation]) -> Data {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(reservations.count * 128)
        func append(_ value: Int64) { withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) } }
        func append(_ text: String) {
            withUnsafeBytes(of: UInt16(truncatingIfNeeded: text.utf8.count).littleEndian) { bytes.append(contentsOf: $0) }
            bytes.append(contentsOf: text.utf8)
        }
        for reservation in reservations {
            append(reservation.id)
            append(reservation.accountID)
            append(reservation.amount)
            append(reservation.openedAt)
            append(reservation.expiresAt)
            append(reservation.key)
            append(reservation.nas)
            append(reservation.number)
            append(reservation.destination)
            append(reservation.details)
        }
        return Data(bytes)
    }

    /// The entries of the row filed under `first`; a damaged row stops the start with its number.
    static func unpack(_ data: Data, first: Int64) throws(LedgerError) -> [Reservation] {
        var reader = Reader(bytes: [UInt8](data))
        var reservations: [Reservation] = []
        do throws(Damage) {
            while !reader.atEnd {
                let (id, accountID, amount) = (try reader.int64(), try reader.int64(), try reader.int64())
                let (openedAt, expiresAt) = (try reader.int64(), try reader.int64())
                let (key, nas, number) = (try reader.text(), try reader.text(), try reader.text())
                let (destination, details) = (try reader.text(), try reader.text())
                guard id >= first, id > reservations.last?.id ?? Int64.min else { throw Damage(offset: reader.offset) }
                reservations.append(Reservation(
                    id: id, key: key, accountID: accountID, amount: amount, nas: nas, number: number, destination: destination,
                    openedAt: openedAt, expiresAt: expiresAt, state: .open, finalCost: nil, closedAt: nil, details: details,
                    movementID: nil))
            }
        } catch {
            throw .storage("reservations_opened row \(first) is damaged at byte \(error.offset)")
        }
        return reservations
    }

    private struct Damage: Error {
        let offset: Int
    }

    private struct Reader {
        let bytes: [UInt8]
        var offset = 0

        var atEnd: Bool { offset == bytes.count }

        mutating func take(_ count: Int) throws(Damage) -> ArraySlice<UInt8> {
            guard count <= bytes.count - offset else { throw Damage(offset: offset) }
            defer { offset += count }
            return bytes[offset..<(offset + count)]
        }

        mutating func int64() throws(Damage) -> Int64 {
            take8(try take(8))
        }

        mutating func text() throws(Damage) -> String {
            let length = try take(2).reversed().reduce(0) { $0 << 8 | Int($1) }
            let start = offset
            guard let text = String(validating: try take(length), as: UTF8.self) else { throw Damage(offset: start) }
            return text
        }

        private func take8(_ slice: ArraySlice<UInt8>) -> Int64 {
            Int64(bitPattern: slice.reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
        }
    }

    /// Files the packed entries of one write.
    static func write(_ reservations: [Reservation], to db: Database) throws {
        guard let first = reservations.first?.id, let last = reservations.last?.id else { return }
        var writer = SQLiteRowWriter(try db.cachedStatement(sql: "INSERT INTO reservations_opened VALUES (?, ?, ?)"), in: db)
        try writer.insert(first, last, pack(reservations))
    }

    /// The highest reservation number written, in a row of its own or packed (0 if none).
    static func highestWritten(_ db: Database) throws -> Int64 {
        max(try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(id), 0) FROM reservations") ?? 0, try highestPacked(db))
    }

    /// The highest number packed so far (0 if none).
    static func highestPacked(_ db: Database) throws -> Int64 {
        // Rows are filed in number order, so the last row's last is the highest.
        try Int64.fetchOne(db.cachedStatement(sql: "SELECT last_id FROM reservations_opened ORDER BY first_id DESC LIMIT 1")) ?? 0
    }

    /// The rows holding numbers `?1` and up, found by their first number: the row `?1` falls in, and those after it.
    static let reaching = """
        first_id >= COALESCE((SELECT max(first_id) FROM reservations_opened WHERE first_id <= ?1), ?1) AND last_id >= ?1
        """

    /// Rows one write deletes at most. A packed row's delete reads and frees its overflow page:
    /// 8,879 rows (386k reservations) took 0.17 s to delete and 0.18 s to commit with the
    /// writer's settings, a stall of every reply had one write done them all, as after a long
    /// call that held the mark back closes.
    static let forgottenPerWrite = 8

    /// Once the mark has passed a packed row, every reservation in it has a row of its own;
    /// deletes up to `forgottenPerWrite` such rows, oldest first, and says how many it did.
    static func forget(below mark: Int64, in db: Database) throws -> Int {
        try db.cachedStatement(sql: """
            DELETE FROM reservations_opened WHERE first_id IN
                (SELECT first_id FROM reservations_opened WHERE first_id < ?1 AND last_id < ?1 ORDER BY first_id LIMIT ?2)
            """).execute(arguments: [mark, forgottenPerWrite])
        return db.changesCount
    }
}

/// The open reservations numbered `from` and up, in number order: `reservations` rows still
/// open, and packed entries with no row of their own.
struct OpenReservationReader {
    private let openRows: RowCursor
    private let storedNumbers: FastDatabaseValueCursor<Int64>
    private let packedRows: RowCursor
    private var nextRow: Reservation?
    private var nextStored: Int64?
    private var packed: ArraySlice<Reservation> = []
    private let from: Int64

    init(_ db: Database, from: Int64) throws {
        self.from = from
        openRows = try Row.fetchCursor(db, sql: "SELECT * FROM reservations WHERE id >= ? AND state = 'open' ORDER BY id", arguments: [from])
        storedNumbers = try Int64.fetchCursor(db, sql: "SELECT id FROM reservations WHERE id >= ? ORDER BY id", arguments: [from])
        packedRows = try Row.fetchCursor(db, sql: "SELECT first_id, entries FROM reservations_opened WHERE \(OpenedReservations.reaching) ORDER BY first_id",
                                         arguments: [from])
        nextRow = try openRows.next().map(SQLiteLoader.reservation)
        nextStored = try storedNumbers.next()
    }

    mutating func next() throws -> Reservation? {
        let entry = try nextPacked()
        if let row = nextRow, entry.map({ row.id < $0.id }) ?? true {
            nextRow = try openRows.next().map(SQLiteLoader.reservation)
            return row
        }
        packed = packed.dropFirst()
        return entry
    }

    /// The first packed entry left with no row of its own, not yet taken.
    private mutating func nextPacked() throws -> Reservation? {
        while true {
            while let entry = packed.first {
                while let stored = nextStored, stored < entry.id { nextStored = try storedNumbers.next() }
                if entry.id >= from, nextStored != entry.id { return entry }
                packed = packed.dropFirst()
            }
            guard let row = try packedRows.next() else { return nil }
            packed = try OpenedReservations.unpack(row[1], first: row[0])[...]
        }
    }
}
