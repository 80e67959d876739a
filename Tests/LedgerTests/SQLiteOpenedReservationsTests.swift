import Foundation
import GRDB
import Ledger
import Testing

/// The embedded store packs the reservations each write opens into one row, and gives a
/// reservation a row of its own when it closes: restarts must see the same calls open either way.
struct SQLiteOpenedReservationsTests {
    @Test
    func packedReservationsComeBackOpenUntilClosedAndCloseOnce() async throws {
        let fixture = StoreFixture(.sqlite)
        defer { try? FileManager.default.removeItem(atPath: fixture.directory) }
        let at = StoreFixture.now
        var store = try await fixture.open()
        let account = try await StoreFixture.account(in: store, value: "100", maxCalls: 200)
        let keys = (0..<150).map { "call-\($0)" }
        // Concurrent requests share writes, so rows hold several entries each.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, key) in keys.enumerated() {
                group.addTask { [store] in
                    _ = try await store.reserve(ReservationRequest(key: key, pin: account.pin, amount: Int64(10_000 + index),
                                                                   expiresAt: at + 3_600, nas: "gw\(index % 3)", number: "4930\(index)",
                                                                   destination: "Germany", at: at))
                }
            }
            try await group.waitForAll()
        }
        let opened = try await store.openReservations()
        let closedFirst = Set(keys.enumerated().filter { $0.offset % 3 == 0 }.map(\.element))
        for key in closedFirst.sorted() { _ = try await store.commit(key: key, cost: 1_000, details: "10 s", at: at + 10) }
        await store.close()
        // The close dropped the rows whose every entry had closed, below the oldest still open.
        let (packedRows, packedNumbers) = try packed(in: fixture)
        #expect(packedNumbers >= keys.count - closedFirst.count && packedRows < packedNumbers, "\(packedRows) rows of \(packedNumbers)")

        store = try await fixture.open()
        #expect(try await store.openReservations() == opened.filter { !closedFirst.contains($0.key) })
        let report = try await store.check()
        #expect(report.problems.isEmpty && report.openReservations == keys.count - closedFirst.count)
        let closedSecond = Set(keys.enumerated().filter { $0.offset % 3 == 1 }.map(\.element))
        for key in closedSecond.sorted() { _ = try await store.commit(key: key, cost: 2_000, details: "20 s", at: at + 20) }
        // A retried Stop of a call closed before the restart debits nothing more.
        _ = try await store.commit(key: "call-0", cost: 9_000_000, details: "retry", at: at + 30)
        await store.close()

        store = try await fixture.open()
        let stillOpen = opened.filter { !closedFirst.contains($0.key) && !closedSecond.contains($0.key) }
        #expect(try await store.openReservations() == stillOpen)
        #expect(try await store.account(pin: account.pin).balance
            == 100_000_000 - Int64(closedFirst.count) * 1_000 - Int64(closedSecond.count) * 2_000)
        for reservation in stillOpen { _ = try await store.commit(key: reservation.key, cost: 0, details: "", at: at + 40) }
        #expect(try await store.check().problems.isEmpty)
        await store.close()
        // With nothing open, the mark passed every packed row, and the close dropped them.
        #expect(try packed(in: fixture).rows == 0)

        store = try await fixture.open()
        #expect(try await store.openReservations().isEmpty)
        _ = try await store.reserve(ReservationRequest(key: "next", pin: account.pin, amount: 1, expiresAt: at + 3_600, at: at + 50))
        #expect(try await store.reservation(key: "next").id == (opened.map(\.id).max() ?? 0) + 1)
        await store.close()
    }

    @Test
    func aDamagedPackedRowStopsTheStartNamingIt() async throws {
        let fixture = StoreFixture(.sqlite)
        defer { try? FileManager.default.removeItem(atPath: fixture.directory) }
        let store = try await fixture.open()
        let account = try await StoreFixture.account(in: store, value: "10", maxCalls: 2)
        let reservation = try await store.reserve(ReservationRequest(key: "call", pin: account.pin, amount: 1_000, expiresAt: StoreFixture.now + 60,
                                                                     at: StoreFixture.now))
        guard case .reserved(let held) = reservation else { Issue.record("not reserved: \(reservation)"); return }
        await store.close()
        let database = try DatabaseQueue(path: fixture.directory + "/ledger.sqlite")
        try await database.write { db in
            try db.execute(sql: "UPDATE reservations_opened SET entries = substr(entries, 1, length(entries) - 3)")
        }
        try database.close()
        do {
            let reopened = try await fixture.open()
            await reopened.close()
            Issue.record("a damaged row was loaded")
        } catch {
            #expect("\(error)".contains("reservations_opened row \(held.id) is damaged"))
        }
    }

    /// How many packed rows there are, and how many numbers they span.
    private func packed(in fixture: StoreFixture) throws -> (rows: Int, numbers: Int) {
        let database = try DatabaseQueue(path: fixture.directory + "/ledger.sqlite")
        defer { try? database.close() }
        return try database.read { db in
            let rows = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM reservations_opened") ?? 0
            let numbers = try Int.fetchOne(db, sql: "SELECT COALESCE(SUM(last_id - first_id + 1), 0) FROM reservations_opened") ?? 0
            return (rows, numbers)
        }
    }
}
