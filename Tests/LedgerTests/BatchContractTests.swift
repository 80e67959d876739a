import Foundation
import Ledger
import RatingEngine
import Testing

@Suite struct BatchContractTests {
    @Test(arguments: StoreKind.available)
    func generatesUniqueRandomPINsWithSealedPasswords(kind: StoreKind) async throws {
        try await withStore(kind) { store, fixture throws in
            // 5,000 cards are 10,000 rows: the SQLite writer writes them with its large cache.
            // Passwords are digits: at 8 of them, one of the 50 searched below turns up by chance inside the
            // 60,000 digits of PINs about once in a hundred runs; at 16 the odds fall below one in a hundred million.
            let spec = BatchSpec(count: 5_000, faceValue: StoreFixture.money("5.00"), plan: "retail", pinLength: 12,
                                 series: "77", passwordLength: 16)
            let (batch, cards) = try await store.generate(spec, context: StoreFixture.context(), progress: nil)
            #expect(batch.count == 5_000 && cards.count == 5_000)
            #expect(Set(cards.map(\.pin)).count == 5_000)
            #expect(cards.allSatisfy { $0.pin.count == 12 && $0.pin.hasPrefix("77") && $0.password.count == 16 })
            // Not sequential: sorted PINs are not a run of consecutive numbers.
            let sorted = cards.compactMap { Int($0.pin) }.sorted()
            #expect(zip(sorted, sorted.dropFirst()).filter { $1 - $0 == 1 }.count < 10)
            for card in cards { #expect(try await store.account(pin: card.pin).pin == card.pin) }
            #expect(try await store.account(pin: cards[7].pin).id != store.account(pin: cards[8].pin).id)
            let account = try await store.account(pin: cards[7].pin)
            #expect(account.balance == 5_000_000 && account.status == .inactive && account.activation == .firstUse)
            #expect(account.plan == "retail" && account.batchID == batch.id)
            #expect(try await store.password(pin: cards[7].pin) == cards[7].password)
            let exported = try await store.export(batch: batch.id)
            #expect(exported.map(\.pin) == cards.map(\.pin) && exported.map(\.password) == cards.map(\.password))
            // No password is stored in clear anywhere in the data directory.
            let files = try FileManager.default.contentsOfDirectory(atPath: fixture.directory)
            for file in files {
                let bytes = try Data(contentsOf: URL(fileURLWithPath: fixture.directory + "/" + file))
                for card in cards.prefix(50) { #expect(bytes.range(of: Data(card.password.utf8)) == nil, "\(file)") }
            }
            #expect(try await store.check().problems.isEmpty)
        }
    }

    @Test(arguments: StoreKind.available)
    func refusesBadSpecsWithoutIssuingAnything(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ throws in
            let bad = [
                BatchSpec(count: 0, faceValue: StoreFixture.money("1")),
                BatchSpec(count: 1, faceValue: StoreFixture.money("1"), pinLength: 3),
                BatchSpec(count: 1, faceValue: StoreFixture.money("1"), series: "12a"),
                BatchSpec(count: 1_000, faceValue: StoreFixture.money("1"), pinLength: 6, series: "12"),
                BatchSpec(count: 1, faceValue: StoreFixture.money("-1")),
            ]
            for spec in bad {
                await #expect(throws: LedgerError.self) { try await store.generate(spec, context: StoreFixture.context(), progress: nil) }
            }
            #expect(try await store.batches().isEmpty)
        }
    }

    @Test(arguments: StoreKind.available)
    func batchStatusAppliesToEveryCardAndIsAudited(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ throws in
            let (batch, cards) = try await store.generate(
                BatchSpec(count: 20, faceValue: StoreFixture.money("1"), activation: .immediate), context: StoreFixture.context(), progress: nil)
            #expect(try await store.setStatus(batch: batch.id, .disabled, context: StoreFixture.context()) == 20)
            #expect(try await store.account(pin: cards[3].pin).status == .disabled)
            #expect(try await store.authorise(pin: cards[3].pin, context: StoreFixture.context()) == .failure(.disabled))
            #expect(try await store.setStatus(batch: batch.id, .enabled, context: StoreFixture.context()) == 20)
            #expect(try await store.account(pin: cards[3].pin).status == .active)
            #expect(try await store.setStatus(batch: batch.id, .dropped, context: StoreFixture.context()) == 20)
            #expect(try await store.authorise(pin: cards[3].pin, context: StoreFixture.context()) == .failure(.dropped))
            await #expect(throws: LedgerError.self) { try await store.setStatus(batch: batch.id, .enabled, context: StoreFixture.context()) }
            let trail = try await store.auditTrail(limit: 10)
            #expect(trail.contains { $0.entity == "batch" && $0.action == "status" && $0.newValue == "dropped" && $0.address == "127.0.0.1" })
        }
    }

    @Test(arguments: StoreKind.available)
    func vouchersAddTheirValueOnce(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ throws in
            let account = try await StoreFixture.account(in: store, value: "1")
            let (batch, codes) = try await store.generate(
                BatchSpec(count: 3, faceValue: StoreFixture.money("2.50"), vouchers: true), context: StoreFixture.context(), progress: nil)
            #expect(batch.vouchers && codes.allSatisfy { $0.password.isEmpty })
            let movement = try await store.redeem(voucher: codes[0].pin, pin: account.pin, context: StoreFixture.context())
            #expect(movement.amount == 2_500_000 && movement.kind == .voucher)
            await #expect(throws: LedgerError.voucherUsed(codes[0].pin)) {
                try await store.redeem(voucher: codes[0].pin, pin: account.pin, context: StoreFixture.context())
            }
            await #expect(throws: LedgerError.unknownVoucher("123")) {
                try await store.redeem(voucher: "123", pin: account.pin, context: StoreFixture.context())
            }
            #expect(try await store.account(pin: account.pin).balance == 3_500_000)
            #expect(try await store.check().problems.isEmpty)
        }
    }
}
