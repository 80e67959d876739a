internal import GRDB
import Foundation
import RatingEngine
import Synchronization

/// The embedded store: one SQLite file under the data directory, the whole ledger in memory,
/// and group commit so that an acknowledged operation is on disk without one fsync per operation.
public final class SQLiteLedgerStore: LedgerStore {
    let book: Mutex<LedgerBook>
    let journal: GroupCommit
    let pool: DatabasePool
    let secrets: SecretBox
    private let lockDescriptor: Int32
    private let closed = Mutex(false)

    /// Opens (creating on first start) `directory/ledger.sqlite` and its key file `directory/ratel.key`.
    /// A second process on the same directory is refused: one embedded ledger has one writer.
    public static func open(directory: String, keyFile: String? = nil, now: Int64? = nil)
        throws(LedgerError) -> SQLiteLedgerStore
    {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw .storage("cannot create data directory \(directory): \(error.localizedDescription)")
        }
        let lockPath = directory + "/ledger.lock"
        let descriptor = Glibc.open(lockPath, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw .storage("cannot open \(lockPath): errno \(errno)") }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            Glibc.close(descriptor)
            throw .storage("data directory \(directory) is in use by another ratel process")
        }
        do {
            let secrets = try SecretBox(keyFile: keyFile ?? directory + "/ratel.key")
            var configuration = Configuration()
            configuration.prepareDatabase { db in
                // FULL: a commit returns only once the WAL is fsynced, so acknowledged means durable.
                try db.execute(sql: "PRAGMA synchronous = FULL")
                // A large batch touches the PIN index at random; a 256 MiB page cache keeps that in memory.
                try db.execute(sql: "PRAGMA cache_size = -262144")
            }
            let pool = try DatabasePool(path: directory + "/ledger.sqlite", configuration: configuration)
            try SQLiteSchema.migrator().migrate(pool)
            let now = now ?? Int64(Date().timeIntervalSince1970)
            let book = try pool.read { db in try SQLiteLoader.load(db, now: now) }
            return SQLiteLedgerStore(book: book, pool: pool, secrets: secrets, lockDescriptor: descriptor)
        } catch {
            Glibc.close(descriptor)
            if let error = error as? LedgerError { throw error }
            throw .storage("\(directory)/ledger.sqlite: \(error)")
        }
    }

    private init(book: LedgerBook, pool: DatabasePool, secrets: SecretBox, lockDescriptor: Int32) {
        self.book = Mutex(book)
        self.pool = pool
        self.secrets = secrets
        self.lockDescriptor = lockDescriptor
        journal = GroupCommit(name: "ratel-ledger-writer") { records in
            try pool.writeWithoutTransaction { db in
                try db.inTransaction(.immediate) {
                    try SQLiteJournal.write(records, to: db)
                    return .commit
                }
            }
        }
    }

    /// Writes what is pending and releases the directory; closing twice does nothing more.
    public func close() async {
        guard !closed.withLock({ closed in defer { closed = true }; return closed }) else { return }
        journal.close()
        try? pool.close()
        Glibc.close(lockDescriptor)
    }

    /// Runs one book operation under the lock, queues its rows in decision order, and returns
    /// once they (and everything decided before them) are durable.
    func perform<T: Sendable>(_ body: (inout LedgerBook) throws(LedgerError) -> T) async throws(LedgerError) -> T {
        let (result, ticket) = try book.withLock { book throws(LedgerError) -> (T, UInt64) in
            let result = try body(&book)
            return (result, journal.append(book.drainRecords()))
        }
        try await journal.waitDurable(ticket)
        return result
    }

    func read<T: Sendable>(_ body: (borrowing LedgerBook) throws(LedgerError) -> T) throws(LedgerError) -> T {
        try book.withLock { book throws(LedgerError) -> T in try body(book) }
    }

    func query<T: Sendable>(_ body: @Sendable (Database) throws -> T) throws(LedgerError) -> T {
        do { return try pool.read(body) } catch let error as LedgerError { throw error } catch {
            throw .storage("\(error)")
        }
    }
}
