import Foundation
public import Ledger
import Logging
import NIOSSL
public import PostgresNIO

/// Parses the `--database` URL an operator gives: postgres://user:password@host:port/database.
public enum DatabaseURL {
    public static func isPostgres(_ text: String) -> Bool {
        text.hasPrefix("postgres://") || text.hasPrefix("postgresql://")
    }

    /// The pool's configuration, and a single connection's for the probe that reports why a
    /// server cannot be reached at once (the pool would retry for a minute first).
    static func configuration(_ text: String) throws(LedgerError)
        -> (pool: PostgresClient.Configuration, probe: PostgresConnection.Configuration)
    {
        guard isPostgres(text), let url = URLComponents(string: text), let host = url.host, !host.isEmpty else {
            throw .invalid("database URL must look like postgres://user:password@host:5432/database, got \(redacted(text))")
        }
        guard let user = url.user, !user.isEmpty else { throw .invalid("database URL \(redacted(text)) names no user") }
        let port = url.port ?? 5432
        guard (1...65_535).contains(port) else { throw .invalid("database URL port \(port) is out of range") }
        let database = url.path.hasPrefix("/") ? String(url.path.dropFirst()) : url.path
        let mode = url.queryItems?.first { $0.name == "sslmode" }?.value ?? "prefer"
        let tls: PostgresClient.Configuration.TLS
        let probeTLS: PostgresConnection.Configuration.TLS
        do {
            switch mode {
            case "disable": (tls, probeTLS) = (.disable, .disable)
            case "prefer": (tls, probeTLS) = (.prefer(.makeClientConfiguration()), .prefer(try NIOSSLContext(configuration: .makeClientConfiguration())))
            case "require": (tls, probeTLS) = (.require(.makeClientConfiguration()), .require(try NIOSSLContext(configuration: .makeClientConfiguration())))
            default: throw LedgerError.invalid("sslmode must be disable, prefer or require, got \(mode)")
            }
        } catch let error as LedgerError { throw error } catch { throw .storage("TLS: \(error)") }
        let name = database.isEmpty ? nil : database
        return (PostgresClient.Configuration(host: host, port: port, username: user, password: url.password, database: name, tls: tls),
                PostgresConnection.Configuration(host: host, port: port, username: user, password: url.password, database: name, tls: probeTLS))
    }

    /// The URL without its password, for error messages and logs.
    public static func redacted(_ text: String) -> String {
        guard var url = URLComponents(string: text), url.password != nil else { return text }
        url.password = "***"
        return url.string ?? "(unparseable URL)"
    }

    /// A connection pool's configuration for `text`, for code that talks to the database itself.
    public static func clientConfiguration(_ text: String) throws(LedgerError) -> PostgresClient.Configuration {
        try configuration(text).pool
    }

    /// The same server and credentials, with database `name`.
    public static func replacingDatabase(_ text: String, with name: String) throws(LedgerError) -> String {
        guard var url = URLComponents(string: text) else { throw .invalid("database URL \(redacted(text)) cannot be parsed") }
        url.path = "/" + name
        guard let replaced = url.string else { throw .invalid("database name \(name) does not fit in a URL") }
        return replaced
    }

    /// Creates database `name` on the server `admin` points at, unless it exists; returns its URL.
    /// Tests and benchmarks make a database of their own this way.
    public static func createDatabaseIfMissing(_ name: String, admin: String) async throws(LedgerError) -> String {
        guard name.utf8.allSatisfy({ $0 == 95 || (48...57).contains($0) || (97...122).contains($0) }) else {
            throw .invalid("database name \(name) must be lower-case letters, digits and _")
        }
        do {
            try await execute("CREATE DATABASE \(name)", at: admin)
        } catch {
            // 42P04: it exists already, which is what was asked for.
            guard (error as? PSQLError)?.serverInfo?[.sqlState] == "42P04" else { throw PostgresLedgerStore.ledgerError(error) }
        }
        return try replacingDatabase(admin, with: name)
    }

    /// Drops database `name` on the server `admin` points at, disconnecting whoever uses it.
    public static func dropDatabase(_ name: String, admin: String) async throws(LedgerError) {
        do { try await execute("DROP DATABASE IF EXISTS \(name) WITH (FORCE)", at: admin) } catch {
            throw PostgresLedgerStore.ledgerError(error)
        }
    }

    /// Runs one statement outside a transaction (CREATE and DROP DATABASE need that).
    private static func execute(_ sql: String, at admin: String) async throws {
        var logger = Logger(label: "ratel.ledger.postgres.admin")
        logger.logLevel = .critical
        let client = PostgresClient(configuration: try clientConfiguration(admin), backgroundLogger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            try await client.query(PostgresQuery(unsafeSQL: sql), logger: logger)
        }
    }
}
