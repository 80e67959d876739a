public import Ledger
import Foundation
import Logging
import PostgresNIO
import RatingEngine

/// The shared store: several Ratel nodes on one PostgreSQL database. The database is the only
/// truth, nothing is cached: a reservation and a commit are each one atomic SQL statement, and
/// every other change locks the rows it reads (`FOR UPDATE`), applies the same `LedgerBook`
/// rules as the embedded store to that slice, and writes what changed in the same transaction.
public final class PostgresLedgerStore: LedgerStore {
    let client: PostgresClient
    let secrets: SecretBox
    let logger: Logger
    let reserveBatcher: StatementBatcher<ReservationRequest>
    let commitBatcher: StatementBatcher<CommitRequest>
    private let runner: Task<Void, Never>

    /// Connects to `url` (postgres://user:password@host:port/database?sslmode=disable|prefer|require),
    /// applies pending migrations, and checks that `keyFile` is the key the database's secrets use.
    public static func open(url: String, keyFile: String, maximumConnections: Int = 20) async throws(LedgerError)
        -> PostgresLedgerStore
    {
        var (configuration, probe) = try DatabaseURL.configuration(url)
        configuration.options.maximumConnections = maximumConnections
        let secrets = try SecretBox(keyFile: keyFile)
        var logger = Logger(label: "ratel.ledger.postgres")
        logger.logLevel = .critical
        do {
            try await PostgresConnection.connect(configuration: probe, id: 0, logger: logger).close()
        } catch {
            let psql = error as? PSQLError
            let reason = psql?.serverInfo?[.message] ?? psql?.underlying.map { "\($0)" } ?? "\(error)"
            throw .storage("cannot connect to PostgreSQL at \(DatabaseURL.redacted(url)): \(reason)")
        }
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        let store = PostgresLedgerStore(client: client, secrets: secrets, logger: logger, maximumConnections: maximumConnections)
        do {
            try await store.migrate()
            try await store.checkKey()
        } catch {
            await store.close()
            throw error
        }
        return store
    }

    private init(client: PostgresClient, secrets: SecretBox, logger: Logger, maximumConnections: Int) {
        self.client = client
        self.secrets = secrets
        self.logger = logger
        runner = Task { await client.run() }
        // A few batches in flight per kind leave most of the pool to everything else.
        let writers = max(1, maximumConnections / 5)
        reserveBatcher = StatementBatcher(writers: writers, limit: 512, key: { $0.key }) { requests in
            try await Self.settled(client.query("""
                SELECT \(unescaped: PostgresRows.reservationColumns) FROM ratel_reserve_many(
                    \(requests.map(\.key)), \(requests.map(\.pin)), \(requests.map(\.amount)), \(requests.map(\.nas)),
                    \(requests.map(\.number)), \(requests.map(\.destination)), \(requests.map(\.at)),
                    \(requests.map(\.expiresAt)))
                """, logger: logger))
        }
        commitBatcher = StatementBatcher(writers: writers, limit: 512, key: { $0.key }) { requests in
            try await Self.settled(client.query("""
                SELECT \(unescaped: PostgresRows.reservationColumns) FROM ratel_commit_many(
                    \(requests.map(\.key)), \(requests.map(\.cost)), \(requests.map(\.details)), \(requests.map(\.at)))
                """, logger: logger))
        }
    }

    private static func settled(_ rows: PostgresRowSequence) async throws -> [String: Reservation] {
        var settled: [String: Reservation] = [:]
        for try await row in rows {
            let reservation = try PostgresRows.reservation(row)
            settled[reservation.key] = reservation
        }
        return settled
    }

    public func close() async {
        runner.cancel()
        _ = await runner.value
    }

    // MARK: Plumbing

    /// Runs `body` on a pooled connection, turning every failure into a `LedgerError`.
    func withConnection<T: Sendable>(_ body: @Sendable (PostgresConnection) async throws -> T) async throws(LedgerError) -> T {
        do { return try await client.withConnection { connection in try await body(connection) } } catch {
            throw Self.ledgerError(error)
        }
    }

    /// Runs `body` in one transaction; it commits only if `body` returns.
    func transaction<T: Sendable>(_ body: @Sendable (PostgresConnection) async throws -> T) async throws(LedgerError) -> T {
        let logger = logger
        return try await withConnection { connection in
            try await connection.withTransaction(logger: logger) { connection in try await body(connection) }
        }
    }

    func rows(_ query: PostgresQuery) async throws(LedgerError) -> [PostgresRow] {
        let logger = logger
        return try await withConnection { connection in try await connection.query(query, logger: logger).collect() }
    }

    static func ledgerError(_ error: any Error) -> LedgerError {
        if let error = error as? LedgerError { return error }
        if let error = error as? PostgresTransactionError {
            if let cause = error.closureError ?? error.beginError ?? error.commitError { return ledgerError(cause) }
            return .storage("PostgreSQL transaction failed")
        }
        if let error = error as? PSQLError {
            if error.serverInfo?[.sqlState] == "22003" { return .amountOverflow }
            if error.serverInfo?[.constraintName] == "account_anis_pkey" {
                // Another node bound the caller ID between this node's check and its write.
                return .invalid("caller ID is already bound to another PIN (\(error.serverInfo?[.detail] ?? ""))")
            }
            if let message = error.serverInfo?[.message] { return .storage("PostgreSQL: \(message)") }
            return .storage("PostgreSQL: \(error.code.description)")
        }
        return .storage("\(error)")
    }

    /// Runs `query`; nil when it violated the unique `constraint`, a race the caller resolves.
    func rows(_ query: PostgresQuery, unlessViolating constraint: String) async throws(LedgerError) -> [PostgresRow]? {
        do { return try await client.query(query, logger: logger).collect() } catch {
            if (error as? PSQLError)?.serverInfo?[.constraintName] == constraint { return nil }
            throw Self.ledgerError(error)
        }
    }

    private func migrate() async throws(LedgerError) {
        try await transaction { connection in
            try await connection.query("""
                CREATE TABLE IF NOT EXISTS ratel_migrations (
                    version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())
                """, logger: self.logger)
            // One node migrates at a time; the others wait here and then find nothing to do.
            try await connection.query("SELECT pg_advisory_xact_lock(\(Self.migrationLock))", logger: self.logger)
            var applied = Set<Int64>()
            for try await version in try await connection.query("SELECT version FROM ratel_migrations", logger: self.logger)
                .decode(Int64.self) { applied.insert(version) }
            for migration in PostgresSchema.migrations where !applied.contains(migration.version) {
                for statement in migration.sql { try await connection.query(PostgresQuery(unsafeSQL: statement), logger: self.logger) }
                try await connection.query("INSERT INTO ratel_migrations (version, name) VALUES (\(migration.version), \(migration.name))",
                                           logger: self.logger)
            }
        }
    }

    /// The first node stores a sealed probe; every later one must be able to open it.
    private func checkKey() async throws(LedgerError) {
        let probe = try secrets.seal("ratel")
        let stored = try await transaction { connection in
            try await connection.query("INSERT INTO ledger_key_check (sealed) VALUES (\(probe)) ON CONFLICT DO NOTHING", logger: self.logger)
            var sealed = Data()
            for try await bytes in try await connection.query("SELECT sealed FROM ledger_key_check", logger: self.logger).decode(Data.self) {
                sealed = bytes
            }
            return sealed
        }
        do { _ = try secrets.open(stored) } catch {
            throw .storage("the key file does not match the key this database's secrets were sealed with")
        }
    }

    static let migrationLock: Int64 = 0x7261_7465_6C00_0001
    /// Serialises batch issuing across nodes, so account ids stay contiguous per batch.
    static let issueLock: Int64 = 0x7261_7465_6C00_0002
}
