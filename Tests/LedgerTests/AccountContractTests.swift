import Foundation
import Ledger
import RatingEngine
import Testing

@Suite struct AccountContractTests {
    @Test(arguments: StoreKind.available)
    func activationModesAndRefusals(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ throws in
            let now = StoreFixture.now
            let firstUse = try await StoreFixture.account(in: store, activation: .firstUse)
            #expect(firstUse.status == .inactive && firstUse.expiresAt == nil)
            let later = StoreFixture.context(now + 3_600)
            let activated = try await store.authorise(pin: firstUse.pin, context: later).get()
            #expect(activated.status == .active && activated.activatedAt == now + 3_600)
            #expect(activated.expiresAt == now + 3_600 + 180 * 86_400)
            // Expired once its validity has run out.
            #expect(try await store.authorise(pin: firstUse.pin, context: StoreFixture.context(now + 3_600 + 180 * 86_400))
                == .failure(.expired))

            let manual = try await StoreFixture.account(in: store, activation: .manual)
            #expect(try await store.authorise(pin: manual.pin, context: later) == .failure(.inactive))
            #expect(try await store.activate(pin: manual.pin, context: later).status == .active)
            #expect(try await store.authorise(pin: manual.pin, context: later).get().pin == manual.pin)

            let immediate = try await StoreFixture.account(in: store)
            _ = try await store.setStatus(pin: immediate.pin, .disabled, context: later)
            #expect(try await store.authorise(pin: immediate.pin, context: later) == .failure(.disabled))
            #expect(try await store.setStatus(pin: immediate.pin, .active, context: later).status == .active)
            _ = try await store.setStatus(pin: immediate.pin, .dropped, context: later)
            #expect(try await store.authorise(pin: immediate.pin, context: later) == .failure(.dropped))
            await #expect(throws: LedgerError.self) { try await store.setStatus(pin: immediate.pin, .active, context: later) }
            #expect(try await store.authorise(pin: "000", context: later) == .failure(.unknownAccount))
            let trail = try await store.auditTrail(limit: 100)
            #expect(trail.contains { $0.entityID == immediate.pin && $0.oldValue == "active" && $0.newValue == "disabled" })
        }
    }

    @Test(arguments: StoreKind.available)
    func rechargesAdjustmentsAndPasswords(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ throws in
            let account = try await StoreFixture.account(in: store, value: "1")
            let later = StoreFixture.context(StoreFixture.now + 60, actor: "alice")
            let recharge = try await store.recharge(pin: account.pin, amount: StoreFixture.money("20.25"), method: .cash,
                                                    reference: "receipt 17", context: later)
            #expect(recharge.amount == 20_250_000 && recharge.method == .cash && recharge.actor == "alice")
            _ = try await store.adjust(pin: account.pin, amount: StoreFixture.money("-0.25"), reason: "goodwill reversal", context: later)
            let usd = try Currency("USD")
            await #expect(throws: LedgerError.currencyMismatch(expected: "EUR", got: "USD")) {
                try await store.recharge(pin: account.pin, amount: Money(micros: 1, currency: usd), method: .card, reference: "", context: later)
            }
            await #expect(throws: LedgerError.self) {
                try await store.adjust(pin: account.pin, amount: StoreFixture.money("1"), reason: "", context: later)
            }
            let touched = try await store.touchRecharge(pin: account.pin, context: StoreFixture.context(StoreFixture.now + 120))
            #expect(touched.lastRechargeAt == StoreFixture.now + 120 && touched.balance == 21_000_000)
            let movements = try await store.movements(pin: account.pin)
            #expect(movements.map(\.kind) == [.issue, .recharge, .adjustment])
            #expect(movements.reduce(0) { $0 + $1.amount } == 21_000_000)

            // Read once first: a store that keeps the opened secret must still give the new one.
            #expect(try await store.password(pin: account.pin) != "9876")
            try await store.setPassword(pin: account.pin, "9876", context: later)
            #expect(try await store.password(pin: account.pin) == "9876")
            await #expect(throws: LedgerError.unknownPin("42")) { try await store.account(pin: "42") }
            #expect(try await store.account(id: account.id).pin == account.pin)
            await #expect(throws: LedgerError.unknownAccountID(account.id + 1)) { try await store.account(id: account.id + 1) }
            #expect(try await store.accounts(ids: [account.id + 1, account.id, account.id]).map(\.balance) == [21_000_000, 21_000_000])
            let report = try await store.check()
            #expect(report.problems.isEmpty && report.accounts == 1 && report.totalBalance["EUR"] == 21_000_000)
        }
    }

    /// A wrong secret authorises nothing and activates nothing; the right one does both. (The
    /// calls stay out of `#expect`: inside it, a debug build ran the first call's closure in
    /// the second call, with swift 6.3.1.)
    @Test(arguments: StoreKind.available)
    func authorisingWithASecret(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ throws in
            let card = try await StoreFixture.account(in: store, activation: .firstUse)
            let later = StoreFixture.context(StoreFixture.now + 60)
            try await store.setPassword(pin: card.pin, "2468", context: later)
            let wrong = try await store.authorise(pin: card.pin, context: later, ifSecret: { $0 == "1357" })
            #expect(wrong == nil)
            #expect(try await store.account(pin: card.pin).status == .inactive)
            let right = try await store.authorise(pin: card.pin, context: later, ifSecret: { $0 == "2468" })
            #expect(try right?.get().status == .active)
            #expect(try await store.account(pin: card.pin).activatedAt == StoreFixture.now + 60)
            _ = try await store.setStatus(pin: card.pin, .disabled, context: later)
            let disabled = try await store.authorise(pin: card.pin, context: later, ifSecret: { $0 == "2468" })
            #expect(disabled == .failure(.disabled))
            await #expect(throws: LedgerError.unknownPin("42")) {
                _ = try await store.authorise(pin: "42", context: later, ifSecret: { _ in true })
            }
        }
    }

    @Test(arguments: StoreKind.available)
    func callerIDsBindToOneAccount(kind: StoreKind) async throws {
        try await withStore(kind) { store, fixture throws in
            let first = try await StoreFixture.account(in: store)
            let second = try await StoreFixture.account(in: store)
            #expect(try await store.bindANI(pin: first.pin, ani: "359888123456", context: StoreFixture.context()).anis == ["359888123456"])
            await #expect(throws: LedgerError.self) {
                try await store.bindANI(pin: second.pin, ani: "359888123456", context: StoreFixture.context())
            }
            await #expect(throws: LedgerError.self) { try await store.bindANI(pin: second.pin, ani: "+35", context: StoreFixture.context()) }
            await store.close()
            let reopened = try await fixture.open()
            #expect(try await reopened.account(ani: "359888123456")?.pin == first.pin)
            #expect(try await reopened.account(ani: "1") == nil)
            await reopened.close()
        }
    }

    @Test(arguments: StoreKind.available)
    func everythingAcknowledgedSurvivesAReopen(kind: StoreKind) async throws {
        let fixture = StoreFixture(kind)
        let store = try await fixture.open()
        let account = try await StoreFixture.account(in: store, value: "10", maxCalls: 3)
        let at = StoreFixture.now
        _ = try await store.reserve(ReservationRequest(key: "open-1", pin: account.pin, amount: 1_000_000, expiresAt: at + 600, nas: "gw1", at: at))
        _ = try await store.reserve(ReservationRequest(key: "done-1", pin: account.pin, amount: 2_000_000, expiresAt: at + 600, at: at))
        let committed = try await store.commit(key: "done-1", cost: 1_500_000, details: "60 s", at: at + 60)
        let outcome = try await store.extend(key: "open-1", by: 500_000, expiresAt: at + 900, at: at + 60)
        guard case .reserved(let extended) = outcome else { throw LedgerError.invalid("extension refused: \(outcome)") }
        await store.close()
        let reopened = try await fixture.open()
        if kind == .sqlite {
            // A second process may not open the same directory while the first has it.
            await #expect(throws: LedgerError.self) { try await fixture.open() }
        } else {
            // A shared database takes several nodes at once; a node with another key is refused.
            let node = try await fixture.open()
            #expect(try await node.account(pin: account.pin).balance == 8_500_000)
            await node.close()
            let keyFile = fixture.directory + "/ratel.key"
            let key = try Data(contentsOf: URL(fileURLWithPath: keyFile))
            try FileManager.default.removeItem(atPath: keyFile)
            await #expect(throws: LedgerError.self) { try await fixture.open() }
            try key.write(to: URL(fileURLWithPath: keyFile))
        }
        #expect(try await reopened.account(pin: account.pin).balance == 8_500_000)
        #expect(try await reopened.openReservations() == [extended])
        #expect(try await reopened.commit(key: "done-1", cost: 9_000_000, details: "retry", at: at + 90) == committed)
        #expect(try await reopened.check().problems.isEmpty)
        // Reservations made after a reopen are filed beside the earlier ones, never over them.
        _ = try await reopened.reserve(ReservationRequest(key: "open-2", pin: account.pin, amount: 1_000_000, expiresAt: at + 600, at: at + 90))
        await reopened.close()
        let third = try await fixture.open()
        #expect(try await third.openReservations().map(\.key).sorted() == ["open-1", "open-2"])
        #expect(try await third.reservation(key: "done-1") == committed)
        #expect(try await third.account(pin: account.pin).balance == 8_500_000)
        #expect(try await third.check().problems.isEmpty)
        await third.close()
        await fixture.remove()
    }
}
