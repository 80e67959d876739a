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

    /// A reservation closed for longer than an hour is settled: the book keeps only its number
    /// and key, and reads the rest back from disk. Whatever is asked of it afterwards, from the
    /// running store or after a restart, is answered as from the whole row, and nothing is
    /// debited twice.
    @Test
    func aSettledReservationIsAnsweredAsBeforeAndNeverDebitedTwice() async throws {
        let fixture = StoreFixture(.sqlite)
        defer { try? FileManager.default.removeItem(atPath: fixture.directory) }
        let start = StoreFixture.now
        let store = try SQLiteLedgerStore.open(directory: fixture.directory, now: start)
        let account = try await StoreFixture.account(in: store, maxCalls: 3)
        for key in ["done", "dropped", "ringing"] {
            let request = ReservationRequest(key: key, pin: account.pin, amount: 1_000_000, expiresAt: start + 2 * Self.week,
                                             nas: "gw1", number: "359888123456", destination: "Bulgaria Mobile", at: start)
            guard case .reserved = try await store.reserve(request) else {
                Issue.record("\(key) was not reserved")
                return
            }
        }
        let done = try await store.commit(key: "done", cost: 400_000, details: #"{"status":"stop","duration":60}"#, at: start + 60)
        let dropped = try await store.release(key: "dropped", at: start + 90)
        let balance = 10_000_000 - 400_000
        let later = start + LedgerBook.wholeReservationMemorySeconds + 600
        _ = try await store.releaseExpired(now: later)

        #expect(try await store.reservation(key: "done") == done)
        #expect(try await store.reservation(key: "dropped") == dropped)
        // A repeated Stop and a retried authorisation get the first answer; neither moves money.
        #expect(try await store.commit(key: "done", cost: 900_000, details: "again", at: later) == done)
        #expect(try await store.reserve(ReservationRequest(key: "done", pin: account.pin, amount: 5_000_000,
                                                           expiresAt: later + 60, at: later)) == .reserved(done))
        await #expect(throws: LedgerError.reservationClosed(key: "dropped", state: .released)) {
            try await store.extend(key: "dropped", by: 1, expiresAt: later + 60, at: later)
        }
        #expect(try await store.account(id: account.id).balance == balance)
        // A Stop long after its reservation was released still debits, once.
        let lateStop = try await store.commit(key: "dropped", cost: 250_000, details: "late stop", at: later + 1)
        #expect(lateStop.state == .committed && lateStop.finalCost == 250_000 && lateStop.nas == "gw1"
                && lateStop.number == "359888123456" && lateStop.destination == "Bulgaria Mobile")
        #expect(try await store.commit(key: "dropped", cost: 250_000, details: "late stop", at: later + 2) == lateStop)
        #expect(try await store.account(id: account.id).balance == balance - 250_000)
        #expect(try await store.openReservations().map(\.key) == ["ringing"])
        #expect(try await store.check().problems.isEmpty)
        // The late Stop is an overrun (nothing was held any more); a restart counts it from its settled row.
        #expect(try await store.check().overruns == 1)
        await store.close()

        // A restart loads them settled, and answers the same.
        let reopened = try SQLiteLedgerStore.open(directory: fixture.directory, now: later + 2 * LedgerBook.wholeReservationMemorySeconds)
        #expect(try await reopened.reservation(key: "done") == done)
        #expect(try await reopened.reservation(key: "dropped") == lateStop)
        #expect(try await reopened.commit(key: "done", cost: 900_000, details: "again", at: later) == done)
        #expect(try await reopened.account(id: account.id).balance == balance - 250_000)
        #expect(try await reopened.check().problems.isEmpty)
        #expect(try await reopened.check().overruns == 1)
        await reopened.close()
    }

    /// Thousands of reservations, over several of the book's chunks of rows, settled and then
    /// forgotten while others stay open: every key is found with its own row throughout, also
    /// after a restart, and a forgotten key is unknown.
    @Test
    func everyKeyStaysFoundThroughSettlingAndForgettingThousandsOfReservations() async throws {
        let fixture = StoreFixture(.sqlite)
        defer { try? FileManager.default.removeItem(atPath: fixture.directory) }
        let start = StoreFixture.now
        let store = try SQLiteLedgerStore.open(directory: fixture.directory, now: start)
        let account = try await StoreFixture.account(in: store, value: "100000", maxCalls: 10_000)
        let keys = (0..<3_000).map { "nas-\($0 % 7)/call-\($0)" }
        for (index, key) in keys.enumerated() {
            let request = ReservationRequest(key: key, pin: account.pin, amount: Int64(1_000 + index), expiresAt: start + 2 * Self.week,
                                             at: start)
            guard case .reserved(let reservation) = try await store.reserve(request), reservation.key == key else {
                Issue.record("\(key) was not reserved")
                return
            }
        }
        for (index, key) in keys.enumerated() where index % 3 == 0 {
            _ = try await store.commit(key: key, cost: 500, details: "{}", at: start + 60)
        }
        for (index, key) in keys.enumerated() where index % 3 == 1 { _ = try await store.release(key: key, at: start + 90) }
        let expected: (Int) -> ReservationState = { [.committed, .released, .open][$0 % 3] }

        let settledAt = start + LedgerBook.wholeReservationMemorySeconds + 600
        _ = try await store.releaseExpired(now: settledAt)
        for (index, key) in keys.enumerated() {
            let reservation = try await store.reservation(key: key)
            #expect(reservation.key == key && reservation.amount == Int64(1_000 + index) && reservation.state == expected(index))
        }
        // New calls after the settling land beside the kept rows, and a retried one gets its first answer.
        for index in 0..<500 {
            let request = ReservationRequest(key: "late-\(index)", pin: account.pin, amount: 1, expiresAt: start + 2 * Self.week,
                                             at: settledAt)
            guard case .reserved = try await store.reserve(request) else {
                Issue.record("late-\(index) was not reserved")
                return
            }
        }
        let retried = ReservationRequest(key: keys[2], pin: account.pin, amount: 9, expiresAt: start + 2 * Self.week, at: settledAt)
        #expect(try await store.reserve(retried) == .reserved(try await store.reservation(key: keys[2])))

        let forgottenAt = start + Self.week + 3_600
        _ = try await store.releaseExpired(now: forgottenAt)
        for reopened in [false, true] {
            let current = reopened ? try SQLiteLedgerStore.open(directory: fixture.directory, now: forgottenAt) : store
            for (index, key) in keys.enumerated() {
                if expected(index) == .open {
                    #expect(try await current.reservation(key: key).amount == Int64(1_000 + index))
                } else {
                    await #expect(throws: LedgerError.unknownReservation(key)) { try await current.reservation(key: key) }
                }
            }
            #expect(try await current.openReservations().count == 1_000 + 500)
            #expect(try await current.reservation(key: "late-499").amount == 1)
            #expect(try await current.check().problems.isEmpty)
            await current.close()
        }
    }
}
