import Foundation
import Ledger
import RatingEngine
import Testing

@Suite struct ReservationContractTests {
    let at = StoreFixture.now

    @Test(arguments: StoreKind.available)
    func reserveCommitReleaseAndExtendAreIdempotent(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ throws in
            let account = try await StoreFixture.account(in: store, value: "10", maxCalls: 5)
            let request = ReservationRequest(key: "nas1/s1", pin: account.pin, amount: 4_000_000, expiresAt: at + 300,
                                             nas: "nas1", number: "359888", destination: "Bulgaria mobile", at: at)
            guard case .reserved(let first) = try await store.reserve(request) else { Issue.record("refused"); return }
            #expect(try await store.reserve(request) == .reserved(first))
            #expect(try await store.openReservations().map(\.destination) == ["Bulgaria mobile"])
            // 10 - 4 held = 6 available: 7 is refused, 6 fits.
            #expect(try await store.extend(key: "nas1/s1", by: 7_000_000, expiresAt: at + 900, at: at) == .refused(.insufficientFunds(available: 6_000_000)))
            guard case .reserved(let extended) = try await store.extend(key: "nas1/s1", by: 1_000_000, expiresAt: at + 600, at: at)
            else { Issue.record("extend refused"); return }
            #expect(extended.amount == 5_000_000 && extended.expiresAt == at + 600)
            // An extension never shortens the expiry, and a refused one leaves it as it was.
            guard case .reserved(let again) = try await store.extend(key: "nas1/s1", by: 0, expiresAt: at + 100, at: at)
            else { Issue.record("extend refused"); return }
            #expect(again.expiresAt == at + 600 && again.amount == 5_000_000)
            #expect(try await store.reservation(key: "nas1/s1").expiresAt == at + 600)
            let committed = try await store.commit(key: "nas1/s1", cost: 3_250_000, details: "195 s", at: at + 200)
            #expect(committed.state == .committed && committed.finalCost == 3_250_000 && !committed.isOverrun)
            #expect(try await store.commit(key: "nas1/s1", cost: 1, details: "again", at: at + 300) == committed)
            #expect(try await store.release(key: "nas1/s1", at: at + 300) == committed)
            #expect(try await store.account(pin: account.pin).balance == 6_750_000)

            _ = try await store.reserve(ReservationRequest(key: "s2", pin: account.pin, amount: 1_000_000, expiresAt: at + 300, at: at))
            let released = try await store.release(key: "s2", at: at + 10)
            #expect(released.state == .released)
            #expect(try await store.release(key: "s2", at: at + 20) == released)
            await #expect(throws: LedgerError.unknownReservation("nope")) { try await store.commit(key: "nope", cost: 1, details: "", at: at) }
            await #expect(throws: LedgerError.reservationClosed(key: "s2", state: .released)) {
                try await store.extend(key: "s2", by: 1, expiresAt: at + 400, at: at)
            }
            #expect(try await store.account(pin: account.pin).balance == 6_750_000)
            #expect(try await store.check().problems.isEmpty)
        }
    }

    /// The account number a caller passes along is only a shortcut: the PIN decides whose money is held.
    @Test(arguments: StoreKind.available)
    func theAccountNumberHintNeverOverridesThePin(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ throws in
            let caller = try await StoreFixture.account(in: store, value: "10", maxCalls: 5)
            let other = try await StoreFixture.account(in: store, value: "10", maxCalls: 5)
            for (key, hint) in [("right", caller.id), ("wrong", other.id), ("absurd", Int64.min), ("beyond", Int64.max)] {
                let request = ReservationRequest(key: key, pin: caller.pin, amount: 1_000_000, expiresAt: at + 300, at: at, accountID: hint)
                guard case .reserved(let reservation) = try await store.reserve(request) else { Issue.record("refused \(key)"); return }
                #expect(reservation.accountID == caller.id)
            }
            let unknown = ReservationRequest(key: "ghost", pin: "no-such-pin", amount: 1, expiresAt: at + 300, at: at, accountID: caller.id)
            #expect(try await store.reserve(unknown) == .refused(.unknownAccount))
            #expect(try await store.openReservations().filter { $0.accountID == other.id }.isEmpty)
            #expect(try await store.check().problems.isEmpty)
        }
    }

    @Test(arguments: StoreKind.available)
    func overrunsDebitInFullAndAreCounted(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ throws in
            let account = try await StoreFixture.account(in: store, value: "1", maxCalls: 2)
            _ = try await store.reserve(ReservationRequest(key: "a", pin: account.pin, amount: 500_000, expiresAt: at + 60, at: at))
            let overrun = try await store.commit(key: "a", cost: 1_200_000, details: "", at: at + 90)
            #expect(overrun.isOverrun)
            #expect(try await store.account(pin: account.pin).balance == -200_000)
            // A Stop that arrives after the sweeper expired the reservation still debits: the call happened.
            _ = try await store.adjust(pin: account.pin, amount: StoreFixture.money("5"), reason: "top up", context: StoreFixture.context())
            _ = try await store.reserve(ReservationRequest(key: "b", pin: account.pin, amount: 500_000, expiresAt: at + 60, at: at))
            #expect(try await store.releaseExpired(now: at + 61) == 1)
            #expect(try await store.reservation(key: "b").state == .expired)
            let late = try await store.commit(key: "b", cost: 300_000, details: "late stop", at: at + 100)
            #expect(late.state == .committed && late.isOverrun)
            let report = try await store.check()
            #expect(report.overruns == 2 && report.problems.isEmpty)
            #expect(try await store.account(pin: account.pin).balance == 4_500_000)
        }
    }

    @Test(arguments: StoreKind.available)
    func reservationsExpireAtTheirLatestExpiryAndNotBefore(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ throws in
            let account = try await StoreFixture.account(in: store, value: "10", maxCalls: 5)
            for (key, expiry) in [("a", at + 60), ("b", at + 120), ("c", at + 60), ("d", at + 60)] {
                _ = try await store.reserve(ReservationRequest(key: key, pin: account.pin, amount: 100_000, expiresAt: expiry, at: at))
            }
            // c's grant grew: its first expiry no longer applies. d ended before it was due.
            _ = try await store.extend(key: "c", by: 100_000, expiresAt: at + 200, at: at + 10)
            _ = try await store.commit(key: "d", cost: 50_000, details: "", at: at + 30)
            #expect(try await store.releaseExpired(now: at + 59) == 0)
            #expect(try await store.releaseExpired(now: at + 60) == 1)
            #expect(try await store.releaseExpired(now: at + 60) == 0)
            #expect(try await store.releaseExpired(now: at + 199) == 1)
            #expect(try await store.reservation(key: "c").state == .open)
            #expect(try await store.releaseExpired(now: at + 200) == 1)
            var states: [ReservationState] = []
            for key in ["a", "b", "c", "d"] { states.append(try await store.reservation(key: key).state) }
            #expect(states == [.expired, .expired, .expired, .committed])
        }
    }

    @Test(arguments: StoreKind.available)
    func refusalsSayWhy(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ throws in
            let account = try await StoreFixture.account(in: store, value: "1", maxCalls: 1)
            let request = { (key: String, amount: Int64) in
                ReservationRequest(key: key, pin: account.pin, amount: amount, expiresAt: self.at + 60, at: self.at)
            }
            #expect(try await store.reserve(request("x", 1_000_001)) == .refused(.insufficientFunds(available: 1_000_000)))
            guard case .reserved = try await store.reserve(request("y", 100)) else { Issue.record("refused"); return }
            #expect(try await store.reserve(request("z", 100)) == .refused(.tooManyCalls(limit: 1)))
            let other = ReservationRequest(key: "w", pin: "1", amount: 1, expiresAt: at, at: at)
            #expect(try await store.reserve(other) == .refused(.unknownAccount))
            let manual = try await StoreFixture.account(in: store, activation: .manual)
            let inactive = ReservationRequest(key: "v", pin: manual.pin, amount: 1, expiresAt: at, at: at)
            #expect(try await store.reserve(inactive) == .refused(.inactive))
        }
    }

    @Test(arguments: StoreKind.available)
    func accountingOnReleasesOneNASOnly(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ throws in
            let account = try await StoreFixture.account(in: store, value: "10", maxCalls: 10)
            for (index, nas) in ["gw1", "gw1", "gw2", "gw1"].enumerated() {
                _ = try await store.reserve(ReservationRequest(key: "k\(index)", pin: account.pin, amount: 100_000,
                                                               expiresAt: at + 3_600, nas: nas, at: at + Int64(index)))
            }
            // One of gw1's calls had its grant moved (twice), one of gw2's ended already.
            _ = try await store.extend(key: "k0", by: 100_000, expiresAt: at + 7_200, at: at + 5)
            _ = try await store.extend(key: "k0", by: 100_000, expiresAt: at + 9_000, at: at + 6)
            _ = try await store.commit(key: "k2", cost: 50_000, details: "{}", at: at + 7)
            // Reservations opened after the NAS rebooted belong to the new boot and stay.
            #expect(try await store.releaseAll(nas: "gw1", openedBefore: at + 3, at: at + 10) == 2)
            #expect(try await store.openReservations().map(\.key) == ["k3"])
            #expect(try await store.reservation(key: "k0").state == .released)
            #expect(try await store.releaseAll(nas: "gw1", openedBefore: at + 3, at: at + 11) == 0)
            #expect(try await store.check().problems.isEmpty)
        }
    }

    /// 200 concurrent reservations against an account that can afford exactly 37 of them.
    @Test(arguments: StoreKind.available)
    func concurrentReservationsNeverOverspend(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ throws in
            let account = try await StoreFixture.account(in: store, value: "3.70", maxCalls: 1_000)
            let granted = try await withThrowingTaskGroup(of: Bool.self) { group in
                for index in 0..<200 {
                    group.addTask {
                        let request = ReservationRequest(key: "c\(index)", pin: account.pin, amount: 100_000,
                                                         expiresAt: StoreFixture.now + 60, at: StoreFixture.now)
                        if case .reserved = try await store.reserve(request) { return true }
                        return false
                    }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(granted == 37)
            let report = try await store.check()
            #expect(report.openReservations == 37 && report.heldMicros == 3_700_000 && report.problems.isEmpty)
        }
    }
}
