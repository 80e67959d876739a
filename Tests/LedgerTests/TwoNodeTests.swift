import Foundation
import Ledger
import Testing

/// Two Ratel nodes on one PostgreSQL database: separate processes racing for one account's money.
@Suite struct TwoNodeTests {
    /// 200 reservations split across two processes against an account that affords exactly 37.
    @Test(.enabled(if: StoreKind.available.contains(.postgres)))
    func twoProcessesNeverOverspendOneAccount() async throws {
        let fixture = StoreFixture(.postgres)
        let setup = try await fixture.open()
        let account = try await StoreFixture.account(in: setup, value: "3.70", maxCalls: 1_000)
        await setup.close()

        // Both nodes are connected before either gets work, so the 200 really overlap.
        var nodes: [LedgerDriver] = []
        for _ in 0..<2 { nodes.append(try await LedgerDriver.start(fixture)) }
        for (node, driver) in nodes.enumerated() {
            try driver.input.write(contentsOf: Data((0..<100).map { "reserve n\(node)-\($0) \(account.pin) 100000\n" }.joined().utf8))
            try driver.input.close()
        }
        var granted = 0, refused = 0
        for driver in nodes {
            let text = String(decoding: driver.output.readDataToEndOfFile(), as: UTF8.self)
            driver.process.waitUntilExit()
            #expect(driver.process.terminationStatus == 0)
            granted += text.components(separatedBy: " granted\n").count - 1
            refused += text.components(separatedBy: " refused\n").count - 1
        }
        #expect(granted == 37 && refused == 163)

        let store = try await fixture.open()
        let report = try await store.check()
        #expect(report.openReservations == 37 && report.heldMicros == 3_700_000 && report.problems.isEmpty)
        await store.close()
        await fixture.remove()
    }
}
