import Foundation
import Ledger
import NIOSSL
import PostgresNIO

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
}
