import Foundation
import Ledger
import LedgerPostgres
import RatingEngine
import Testing

/// The stores the contract suite runs against. PostgreSQL runs wherever the test command
/// started one (RATEL_TEST_POSTGRES); under CI=true it always runs, so a missing server fails.
enum StoreKind: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case sqlite
    case postgres

    var testDescription: String { rawValue }

    static var available: [StoreKind] {
        TestPostgres.adminURL != nil || ProcessInfo.processInfo.environment["CI"] == "true" ? allCases : [.sqlite]
    }
}

/// A fresh, empty store: a directory of its own (SQLite's file, and the key file of both) and,
/// for PostgreSQL, a database of its own; both removed afterwards.
struct StoreFixture {
    let directory: String
    let kind: StoreKind
    let database: String

    init(_ kind: StoreKind) {
        self.kind = kind
        let id = UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("ratel-ledger-\(id)").path
        database = "ratel_test_\(id)"
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    func open() async throws -> any LedgerStore {
        switch kind {
        case .sqlite: return try SQLiteLedgerStore.open(directory: directory, now: StoreFixture.now)
        case .postgres:
            let url = try await TestPostgres.database(database)
            return try await PostgresLedgerStore.open(url: url, keyFile: directory + "/ratel.key")
        }
    }

    func remove() async {
        try? FileManager.default.removeItem(atPath: directory)
        if kind == .postgres, let admin = TestPostgres.adminURL { try? await DatabaseURL.dropDatabase(database, admin: admin) }
    }

    /// 2026-11-21 12:00 UTC: every test runs on a fixed clock.
    static let now: Int64 = 1_795_262_400
    static let eur = try! Currency("EUR")  // a literal the tests own, not input

    static func money(_ text: String) -> Money { try! Money(parsing: text, currency: eur) }

    static func context(_ at: Int64 = now, actor: String = "test") -> ChangeContext {
        ChangeContext(actor: actor, address: "127.0.0.1", at: at)
    }

    /// One immediately active account holding `value`.
    static func account(in store: any LedgerStore, value: String = "10", maxCalls: Int = 1,
                        activation: ActivationMode = .immediate) async throws -> Account {
        let (_, cards) = try await store.generate(
            BatchSpec(count: 1, faceValue: money(value), activation: activation, maxCalls: maxCalls),
            context: context(), progress: nil)
        return try await store.account(pin: cards[0].pin)
    }
}

/// Runs `body` against a fresh store and closes and removes it afterwards, also on failure.
func withStore(_ kind: StoreKind, _ body: (any LedgerStore, StoreFixture) async throws -> Void) async throws {
    let fixture = StoreFixture(kind)
    let store = try await fixture.open()
    do {
        try await body(store, fixture)
    } catch {
        await store.close()
        await fixture.remove()
        throw error
    }
    await store.close()
    await fixture.remove()
}

/// The PostgreSQL server the test command started (scripts/start-postgres.sh).
enum TestPostgres {
    static var adminURL: String? { ProcessInfo.processInfo.environment["RATEL_TEST_POSTGRES"] }

    struct NotConfigured: Error, CustomStringConvertible {
        var description: String { "RATEL_TEST_POSTGRES is not set: run the tests with `make test`, which starts PostgreSQL" }
    }

    /// Creates `name` (once) and returns its URL.
    static func database(_ name: String) async throws -> String {
        guard let admin = adminURL else { throw NotConfigured() }
        return try await DatabaseURL.createDatabaseIfMissing(name, admin: admin)
    }
}
