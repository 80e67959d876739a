import Foundation
import Ledger
import RatingEngine
import Testing

/// The stores the contract suite runs against. PostgreSQL joins the list with its store.
enum StoreKind: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case sqlite

    var testDescription: String { rawValue }
}

/// A fresh, empty store in a directory of its own, removed afterwards.
struct StoreFixture {
    let directory: String
    let kind: StoreKind

    init(_ kind: StoreKind) {
        self.kind = kind
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("ratel-ledger-\(UUID().uuidString)").path
    }

    func open() throws -> any LedgerStore {
        switch kind {
        case .sqlite: try SQLiteLedgerStore.open(directory: directory, now: StoreFixture.now)
        }
    }

    func remove() { try? FileManager.default.removeItem(atPath: directory) }

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
    defer { fixture.remove() }
    let store = try fixture.open()
    do {
        try await body(store, fixture)
    } catch {
        await store.close()
        throw error
    }
    await store.close()
}
