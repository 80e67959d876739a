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
    /// Every account's password: a PAP or digest check costs no read transaction and no AES-GCM.
    let passwords: Passwords
    private let checkpointer: WALCheckpointer
    private let mark: OpenReservationMark
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
        guard lockWithin(seconds: 2, descriptor) else {
            Glibc.close(descriptor)
            throw .storage("data directory \(directory) is in use by another ratel process")
        }
        do {
            let secrets = try SecretBox(keyFile: keyFile ?? directory + "/ratel.key")
            var configuration = Configuration()
            // A lock held briefly elsewhere (a reader connection opening, a checkpoint) is waited
            // for: a busy error would otherwise fail the writer and, with it, the whole store.
            configuration.busyMode = .timeout(10)
            configuration.prepareDatabase { db in
                // Only the writer gets more than the default cache (`WriterCache`): a reader
                // empties its whole cache (a walk over every hash bucket) each time it finds the
                // file changed, which is every lookup.
                if !db.configuration.readonly {
                    try WriterCache.use(WriterCache.servingKiB, on: db)
                    try db.execute(sql: "PRAGMA wal_autocheckpoint = \(WALCheckpointer.backstopPages)")
                }
            }
            let pool = try DatabasePool(path: directory + "/ledger.sqlite", configuration: configuration)
            try requireSyncedCommits(pool)
            try SQLiteSchema.migrator().migrate(pool)
            let now = now ?? Int64(Date().timeIntervalSince1970)
            let passwords = Passwords(box: secrets)
            let book = try loadConcurrently(
                { try pool.read { db in try SQLiteLoader.load(db, now: now) } },
                { try passwords.load(from: pool) })
            let mark = OpenReservationMark()
            let checkpointer = try WALCheckpointer(path: directory + "/ledger.sqlite", chore: mark.advance(reading:))
            return SQLiteLedgerStore(book: book, pool: pool, secrets: secrets, passwords: passwords, checkpointer: checkpointer,
                                     mark: mark, lockDescriptor: descriptor)
        } catch {
            Glibc.close(descriptor)
            if let error = error as? LedgerError { throw error }
            throw .storage("\(directory)/ledger.sqlite: \(error)")
        }
    }

    private init(book: LedgerBook, pool: DatabasePool, secrets: SecretBox, passwords: Passwords,
                 checkpointer: WALCheckpointer, mark: OpenReservationMark, lockDescriptor: Int32) {
        self.book = Mutex(book)
        self.checkpointer = checkpointer
        self.mark = mark
        self.pool = pool
        self.secrets = secrets
        self.passwords = passwords
        self.lockDescriptor = lockDescriptor
        journal = GroupCommit(name: "ratel-writer") { records in
            var written: [(accountID: Int64, sealed: Data)] = []
            let large = WriterCache.isLarge(records)
            try checkpointer.whileWriting { try pool.writeWithoutTransaction { db in
                if large { try WriterCache.use(WriterCache.largeKiB, on: db) }
                // The size is a matter of speed only; the group is committed whether or not it shrinks.
                defer { if large { try? WriterCache.use(WriterCache.servingKiB, on: db) } }
                // Prepared once: `inTransaction` parsed BEGIN and COMMIT anew for every group, a
                // few percent of the writer's time when groups are small (half the peak).
                try db.cachedStatement(sql: "BEGIN IMMEDIATE TRANSACTION").execute()
                do {
                    written = try SQLiteJournal.write(records, to: db)
                    try mark.write(into: db)
                    try db.cachedStatement(sql: "COMMIT TRANSACTION").execute()
                } catch {
                    if db.isInsideTransaction { try? db.cachedStatement(sql: "ROLLBACK TRANSACTION").execute() }
                    throw error
                }
            } }
            // Only once stored: a password nobody could read back after a crash is never checked.
            if !written.isEmpty { passwords.store { store in for (id, sealed) in written { store(id, sealed) } } }
        }
    }

    public var decidesInMemory: Bool { true }
    public var refusesEverything: Bool { journal.hasFailed }

    /// Runs `load` here and `alongside` on another thread, for a start-up that reads two large
    /// tables; returns once both are done.
    private static func loadConcurrently<T>(_ load: () throws -> T, _ alongside: @escaping @Sendable () throws -> Void) throws -> T {
        let done = DispatchGroup()
        let failure = Mutex<(any Error)?>(nil)
        DispatchQueue.global().async(group: done) {
            do { try alongside() } catch { failure.withLock { $0 = error } }
        }
        let value: T
        do { value = try load() } catch {
            done.wait()
            throw error
        }
        done.wait()
        if let error = failure.withLock({ $0 }) { throw error }
        return value
    }

    /// A lock just released can still be held for a moment by a child another thread is
    /// spawning (it has a copy of every descriptor until its exec closes them), and a restart
    /// may find the old process still exiting; only a lock held for longer means another writer.
    private static func lockWithin(seconds: Int, _ descriptor: Int32) -> Bool {
        for _ in 0..<(seconds * 100) {
            if flock(descriptor, LOCK_EX | LOCK_NB) == 0 { return true }
            usleep(10_000)
        }
        return flock(descriptor, LOCK_EX | LOCK_NB) == 0
    }

    /// FULL: a commit returns only once the WAL is fsynced, so acknowledged means durable, power
    /// loss included. It is set after the pool is open because GRDB sets up a pool's WAL after
    /// `prepareDatabase` has run, and turns `synchronous` to NORMAL on the way (a commit then
    /// reaches the operating system, not the disk); it is read back so that no later change of
    /// the library's does that silently again.
    private static func requireSyncedCommits(_ pool: DatabasePool) throws {
        try pool.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            let level = try synchronousLevel(db)
            guard level == fullSynchronous else {
                throw LedgerError.storage("SQLite runs the ledger with synchronous = \(level.map(String.init) ?? "?"), not FULL")
            }
        }
    }

    private static let fullSynchronous = 2

    private static func synchronousLevel(_ db: Database) throws -> Int? {
        try Int.fetchOne(db, sql: "PRAGMA synchronous")
    }

    /// The writer connection's `PRAGMA synchronous` (2 is FULL).
    package func writerSynchronousLevel() throws -> Int? {
        try pool.writeWithoutTransaction { db in try Self.synchronousLevel(db) }
    }

    /// Writes what is pending and releases the directory; closing twice does nothing more.
    public func close() async {
        guard !closed.withLock({ closed in defer { closed = true }; return closed }) else { return }
        journal.close()
        checkpointer.close()
        // The next start then reads open reservations from the lowest one left.
        _ = try? await pool.write { db in
            try mark.advance(reading: db)
            try mark.write(into: db, all: true)
        }
        // Leaves the data directory without a write-ahead log to replay: after a batch of a
        // million PINs it is hundreds of megabytes, which the next start would have to read.
        _ = try? await pool.writeWithoutTransaction { try $0.checkpoint(.truncate) }
        try? pool.close()
        Glibc.close(lockDescriptor)
    }

    /// Runs one book operation under the lock, queues its rows in decision order, and returns
    /// once they (and everything decided before them) are durable, or, under a
    /// `DeferredDurability`, leaves that wait to the caller. An operation that wrote nothing
    /// waits for what was decided before it all the same: it may have read it (a retried
    /// reservation finds the first one, still on its way to disk), and must not acknowledge it early.
    func perform<T: Sendable>(_ body: (inout LedgerBook) throws(LedgerError) -> T) async throws(LedgerError) -> T {
        let deferral = DeferredDurability.current
        let (result, ticket) = try book.withLock { book throws(LedgerError) -> (T, UInt64?) in
            let result = try body(&book)
            guard !book.records.isEmpty else { return (result, journal.undurableTicket()) }
            defer { book.forgetRecords() }
            return (result, journal.append(book.records, wakeWriter: deferral == nil))
        }
        guard let ticket else { return result }
        if let deferral {
            deferral.hold(ticket, of: journal)
        } else {
            try await journal.waitDurable(ticket)
        }
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
