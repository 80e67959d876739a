import Foundation
import Ledger
import Testing

/// The embedded store reads open reservations at start from a mark below the oldest of them,
/// which moves up as the oldest close; none may be left behind it.
struct SQLiteOpenMarkTests {
    @Test
    func everyOpenReservationIsThereAfterRestartsWhileOthersClose() async throws {
        let fixture = StoreFixture(.sqlite)
        defer { try? FileManager.default.removeItem(atPath: fixture.directory) }
        let at = StoreFixture.now
        var store = try await fixture.open()
        let account = try await StoreFixture.account(in: store, value: "100", maxCalls: 50)
        func reserve(_ key: String, in store: any LedgerStore) async throws {
            _ = try await store.reserve(ReservationRequest(key: key, pin: account.pin, amount: 1_000_000, expiresAt: at + 3_600, at: at))
        }
        try await reserve("long", in: store)
        for call in 0..<5 {
            try await reserve("short-\(call)", in: store)
            _ = try await store.commit(key: "short-\(call)", cost: 100_000, details: "", at: at + 10)
        }
        await store.close()

        store = try await fixture.open()
        #expect(try await store.openReservations().map(\.key) == ["long"])
        _ = try await store.commit(key: "long", cost: 500_000, details: "", at: at + 20)
        try await reserve("later", in: store)
        await store.close()

        store = try await fixture.open()
        #expect(try await store.openReservations().map(\.key) == ["later"])
        #expect(try await store.account(pin: account.pin).balance == 100_000_000 - 5 * 100_000 - 500_000)
        #expect(try await store.check().problems.isEmpty)
        // A retried Stop for a call closed before the restarts still finds it and debits nothing more.
        _ = try await store.commit(key: "long", cost: 9_000_000, details: "retry", at: at + 30)
        #expect(try await store.account(pin: account.pin).balance == 100_000_000 - 5 * 100_000 - 500_000)
        _ = try await store.commit(key: "later", cost: 0, details: "", at: at + 30)
        await store.close()

        store = try await fixture.open()
        #expect(try await store.openReservations().isEmpty)
        #expect(try await store.check().problems.isEmpty)
        await store.close()
    }
}
