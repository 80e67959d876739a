import Foundation
import Ledger
import Testing

/// The embedded store keeps the ledger in memory. A closed reservation is remembered for a week
/// (a late or repeated Stop finds it and is not billed twice), then forgotten by the sweep, as a
/// restart forgets it, so a long-running server does not grow by every call it answered.
struct SQLiteMemoryTests {
    static let week = LedgerBook.closedReservationMemorySeconds

    @Test
    func aSweepForgetsWhatClosedLongerAgoThanTheMemoryAndKeepsTheRest() async throws {
        let fixture = StoreFixture(.sqlite)
        defer { try? FileManager.default.removeItem(atPath: fixture.directory) }
        let store = try SQLiteLedgerStore.open(directory: fixture.directory, now: StoreFixture.now)
        let account = try await StoreFixture.account(in: store, maxCalls: 3)
        let start = StoreFixture.now
        for key in ["old-call", "long-call", "late-close"] {
            let request = ReservationRequest(key: key, pin: account.pin, amount: 1_000_000, expiresAt: start + 2 * Self.week, at: start)
            guard case .reserved = try await store.reserve(request) else {
                Issue.record("\(key) was not reserved")
                return
            }
        }
        _ = try await store.commit(key: "old-call", cost: 400_000, details: "{}", at: start + 60)
        let sweepAt = start + Self.week + 120
        _ = try await store.commit(key: "late-close", cost: 300_000, details: "{}", at: sweepAt - 10)

        _ = try await store.releaseExpired(now: sweepAt)

        await #expect(throws: LedgerError.unknownReservation("old-call")) { try await store.reservation(key: "old-call") }
        #expect(try await store.reservation(key: "long-call").state == .open)
        #expect(try await store.reservation(key: "late-close").finalCost == 300_000)
        // What was forgotten in memory is still on disk; the balance is unchanged by forgetting.
        #expect(try await store.account(id: account.id).balance == 10_000_000 - 400_000 - 300_000)
        #expect(try await store.openReservations().map(\.key) == ["long-call"])

        // Reserving again after more calls lands in the same table, and the kept rows stay found.
        let next = ReservationRequest(key: "new-call", pin: account.pin, amount: 1_000_000, expiresAt: sweepAt + 300, at: sweepAt)
        guard case .reserved = try await store.reserve(next) else {
            Issue.record("new-call was not reserved")
            return
        }
        #expect(try await store.reservation(key: "long-call").state == .open)
        #expect(try await store.reservation(key: "new-call").state == .open)
        await store.close()

        // A restart at the same time remembers the same reservations.
        let reopened = try SQLiteLedgerStore.open(directory: fixture.directory, now: sweepAt)
        await #expect(throws: LedgerError.unknownReservation("old-call")) { try await reopened.reservation(key: "old-call") }
        #expect(try await reopened.reservation(key: "late-close").finalCost == 300_000)
        #expect(Set(try await reopened.openReservations().map(\.key)) == ["long-call", "new-call"])
        await reopened.close()
    }
}
