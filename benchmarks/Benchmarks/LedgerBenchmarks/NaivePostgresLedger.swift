import Foundation
import LedgerPostgres
import Logging
import PostgresNIO

/// The baseline for the shared store: one transaction per operation, reading then writing, as
/// SQL scripts behind a RADIUS server do; same server, same schema, same pool size.
struct NaivePostgresLedger: Sendable {
    let client: PostgresClient
    let logger = Logger(label: "bench.naive")

    func pair(pin: String, key: Int) async throws {
        let key = "naive-\(key)"
        try await client.withTransaction(logger: logger) { connection in
            var account: (Int64, Int64, Int64)?
            for try await row in try await connection.query(
                "SELECT id, balance, credit_limit FROM accounts WHERE pin = \(pin) FOR UPDATE", logger: logger)
                .decode((Int64, Int64, Int64).self) { account = row }
            guard let (id, balance, credit) = account else { fatalError("seeded PIN missing") }
            var held: Int64 = 0
            for try await sum in try await connection.query(
                "SELECT COALESCE(SUM(amount), 0)::BIGINT FROM reservations WHERE account_id = \(id) AND state = 'open'",
                logger: logger).decode(Int64.self) { held = sum }
            guard balance + credit - held >= 1_000_000 else { fatalError("cannot afford") }
            try await connection.query("""
                INSERT INTO reservations (key, account_id, amount, nas, number, destination, opened_at, expires_at, state, details)
                VALUES (\(key), \(id), 1000000, 'bench', '', '', \(benchmarkNow), \(benchmarkNow + 3_600), 'open', '')
                """, logger: logger)
        }
        try await client.withTransaction(logger: logger) { connection in
            var accountID: Int64?
            for try await id in try await connection.query(
                "SELECT account_id FROM reservations WHERE key = \(key) FOR UPDATE", logger: logger).decode(Int64.self) { accountID = id }
            guard let accountID else { fatalError("reservation missing") }
            var movementID: Int64 = 0
            for try await id in try await connection.query("""
                INSERT INTO movements (account_id, amount, kind, reference, actor, at)
                VALUES (\(accountID), -420000, 'call', \(key), 'nas:bench', \(benchmarkNow + 60)) RETURNING id
                """, logger: logger).decode(Int64.self) { movementID = id }
            try await connection.query("UPDATE accounts SET balance = balance - 420000 WHERE id = \(accountID)", logger: logger)
            try await connection.query("""
                UPDATE reservations SET state = 'committed', final_cost = 420000, closed_at = \(benchmarkNow + 60),
                    movement_id = \(movementID) WHERE key = \(key)
                """, logger: logger)
        }
    }
}

/// The PostgreSQL server `make bench` starts (scripts/start-postgres.sh), and a fresh database on it.
enum BenchPostgres {
    static var adminURL: String {
        guard let url = ProcessInfo.processInfo.environment["RATEL_BENCH_POSTGRES"] else {
            fatalError("RATEL_BENCH_POSTGRES is not set: run `make bench`, which starts PostgreSQL")
        }
        return url
    }

    static func freshDatabase(_ name: String) async throws -> String {
        try await DatabaseURL.dropDatabase(name, admin: adminURL)
        return try await DatabaseURL.createDatabaseIfMissing(name, admin: adminURL)
    }

    static func client(_ url: String) throws -> PostgresClient {
        var configuration = try DatabaseURL.clientConfiguration(url)
        configuration.options.maximumConnections = postgresConnections
        return PostgresClient(configuration: configuration, backgroundLogger: Logger(label: "bench.naive"))
    }
}

/// Connections per pool, for the store and the baseline alike.
let postgresConnections = 20
