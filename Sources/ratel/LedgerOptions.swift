import ArgumentParser
import Foundation
import Ledger
import LedgerPostgres
import RatingEngine

/// Where the ledger lives and who is acting: every ledger command takes these.
struct LedgerOptions: ParsableArguments {
    @Option(name: .customLong("data"), help: "Data directory of the embedded SQLite ledger (and of the key file).")
    var dataDirectory = "./ratel-data"

    @Option(name: .customLong("database"),
            help: "A shared PostgreSQL ledger instead, e.g. postgres://ratel:secret@db:5432/ratel (also $RATEL_DATABASE).")
    var databaseURL: String?

    @Option(name: .customLong("key"), help: "The key file secrets are sealed with (default: DATA/ratel.key). Every node of a shared ledger needs the same one.")
    var keyFile: String?

    @Option(help: "Who is making the change, for the audit trail (default: $USER).")
    var actor: String?

    func open() async throws -> any LedgerStore {
        try await Self.openStore(dataDirectory: dataDirectory, databaseURL: databaseURL, keyFile: keyFile)
    }

    /// The embedded SQLite ledger in `dataDirectory`, or the PostgreSQL one `databaseURL` (or
    /// $RATEL_DATABASE) names.
    static func openStore(dataDirectory: String, databaseURL: String?, keyFile: String?) async throws -> any LedgerStore {
        guard let url = databaseURL ?? ProcessInfo.processInfo.environment["RATEL_DATABASE"] else {
            return try SQLiteLedgerStore.open(directory: dataDirectory, keyFile: keyFile)
        }
        guard DatabaseURL.isPostgres(url) else {
            throw LedgerError.invalid("the database must be a postgres:// URL, got \(DatabaseURL.redacted(url))")
        }
        try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        return try await PostgresLedgerStore.open(url: url, keyFile: keyFile ?? dataDirectory + "/ratel.key")
    }

    func context() -> ChangeContext {
        let who = actor ?? ProcessInfo.processInfo.environment["USER"] ?? "cli"
        return ChangeContext(actor: who, address: "cli", at: Int64(Date().timeIntervalSince1970))
    }

    /// Opens the store, runs `body`, and closes the store whatever happens.
    func withStore<T>(_ body: (any LedgerStore) async throws -> T) async throws -> T {
        let store = try await open()
        do {
            let result = try await body(store)
            await store.close()
            return result
        } catch {
            await store.close()
            throw error
        }
    }
}

extension Account {
    var json: JSON {
        .object([
            ("pin", .string(pin)), ("kind", .string(kind.rawValue)), ("status", .string(status.rawValue)),
            ("balance", .string(Money.format(micros: balance, minimumDecimals: 2))), ("currency", .string(currency.code)),
            ("credit_limit", .string(Money.format(micros: creditLimit, minimumDecimals: 2))), ("plan", .string(plan)),
            ("max_calls", .int(Int64(maxCalls))), ("batch", batchID.map { .int($0) } ?? .string("")),
            ("activation", .string(activation.rawValue)), ("created", .string(Timestamp.text(createdAt))),
            ("activated", .string(Timestamp.text(activatedAt))), ("expires", .string(Timestamp.text(expiresAt))),
            ("last_recharge", .string(Timestamp.text(lastRechargeAt))), ("anis", .array(anis.map { .string($0) })),
        ])
    }
}

extension Batch {
    var json: JSON {
        .object([
            ("id", .int(id)), ("kind", .string(vouchers ? "vouchers" : "accounts")), ("count", .int(Int64(count))),
            ("value", .string(faceValue.formatted(decimals: 2))), ("currency", .string(faceValue.currency.code)),
            ("plan", .string(plan)), ("status", .string(status.rawValue)), ("created", .string(Timestamp.text(createdAt))),
            ("created_by", .string(createdBy)),
        ])
    }
}

extension Movement {
    var json: JSON {
        .object([
            ("id", .int(id)), ("kind", .string(kind.rawValue)), ("amount", .string(Money.format(micros: amount, minimumDecimals: 2))),
            ("method", .string(method?.rawValue ?? "")), ("reference", .string(reference)), ("by", .string(actor)),
            ("at", .string(Timestamp.text(at))),
        ])
    }
}

enum Timestamp {
    static func text(_ seconds: Int64?) -> String {
        guard let seconds else { return "" }
        return ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
    }
}
