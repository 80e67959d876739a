internal import GRDB
internal import GRDBSQLite
import Foundation

/// Executes one prepared INSERT per row, binding values straight through the SQLite C API: for a
/// million-card batch, GRDB's StatementArguments (an array of enum values per row) cost as much
/// as SQLite's own work.
struct SQLiteRowWriter {
    private let statement: OpaquePointer
    private let db: Database
    private var index: Int32 = 0
    private let arena = TextArena()

    /// Where a row's text values are copied for binding: SQLite reads them in place until the
    /// row is written (SQLITE_STATIC), instead of allocating a copy of each.
    final class TextArena {
        let base: UnsafeMutableRawPointer
        let capacity = 16 << 10
        var used = 0

        init() { base = .allocate(byteCount: capacity, alignment: 8) }
        deinit { base.deallocate() }
    }

    init(_ statement: Statement, in db: Database) {
        self.statement = statement.sqliteStatement
        self.db = db
    }

    /// Binds `values` to the statement's parameters in order and runs it.
    mutating func insert<each Value: SQLiteBindable>(_ values: repeat each Value) throws {
        index = 0
        arena.used = 0
        repeat (each values).bind(to: &self)
        try step()
    }

    /// As `insert`, for an UPDATE: says whether it changed a row.
    mutating func update<each Value: SQLiteBindable>(_ values: repeat each Value) throws -> Bool {
        try insert(repeat each values)
        return sqlite3_changes(db.sqliteConnection) > 0
    }

    mutating func bindInt64(_ value: Int64) {
        index += 1
        sqlite3_bind_int64(statement, index, value)
    }

    mutating func bindText(_ value: String) {
        index += 1
        var text = value
        text.withUTF8 { bytes in
            if let source = bytes.baseAddress, bytes.count <= arena.capacity - arena.used {
                let copy = arena.base + arena.used
                copy.copyMemory(from: source, byteCount: bytes.count)
                arena.used += bytes.count
                _ = sqlite3_bind_text(statement, index, copy.assumingMemoryBound(to: CChar.self), Int32(bytes.count), nil)
            } else {
                _ = sqlite3_bind_text(statement, index, bytes.baseAddress.map { UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self) },
                                      Int32(bytes.count), SQLiteRowWriter.transient)
            }
        }
    }

    mutating func bindBlob(_ value: Data) {
        index += 1
        value.withUnsafeBytes { bytes in
            _ = sqlite3_bind_blob(statement, index, bytes.baseAddress, Int32(bytes.count), SQLiteRowWriter.transient)
        }
    }

    mutating func bindNull() {
        index += 1
        sqlite3_bind_null(statement, index)
    }

    /// Runs the statement with what was bound, and makes it ready for the next row.
    private func step() throws {
        let code = sqlite3_step(statement)
        sqlite3_reset(statement)
        sqlite3_clear_bindings(statement)
        guard code == SQLITE_DONE else {
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
        }
    }

    /// SQLite copies the bytes before the call returns.
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
}

/// A value a journal row holds.
protocol SQLiteBindable {
    func bind(to writer: inout SQLiteRowWriter)
}

extension Int64: SQLiteBindable {
    func bind(to writer: inout SQLiteRowWriter) { writer.bindInt64(self) }
}

extension Int: SQLiteBindable {
    func bind(to writer: inout SQLiteRowWriter) { writer.bindInt64(Int64(self)) }
}

extension Bool: SQLiteBindable {
    func bind(to writer: inout SQLiteRowWriter) { writer.bindInt64(self ? 1 : 0) }
}

extension String: SQLiteBindable {
    func bind(to writer: inout SQLiteRowWriter) { writer.bindText(self) }
}

extension Data: SQLiteBindable {
    func bind(to writer: inout SQLiteRowWriter) { writer.bindBlob(self) }
}

extension Optional: SQLiteBindable where Wrapped: SQLiteBindable {
    func bind(to writer: inout SQLiteRowWriter) {
        if let self { self.bind(to: &writer) } else { writer.bindNull() }
    }
}
