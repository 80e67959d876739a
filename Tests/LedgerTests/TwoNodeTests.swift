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

        let nodes = try await (0..<2).asyncMap { node in
            let process = Process()
            process.executableURL = try CrashTests.driver
            process.arguments = try await CrashTests.driverArguments(fixture)
            let input = Pipe(), output = Pipe()
            process.standardInput = input
            process.standardOutput = output
            process.standardError = FileHandle.nullDevice
            try process.run()
            return (process, input, output, node)
        }
        // Both nodes are connected before either gets work, so the 200 really overlap.
        for (_, _, output, _) in nodes { _ = try await readUntil("ready\n", output.fileHandleForReading) }
        let lines = (0..<2).map { node in
            (0..<100).map { "reserve n\(node)-\($0) \(account.pin) 100000\n" }.joined()
        }
        for (_, input, _, node) in nodes {
            try input.fileHandleForWriting.write(contentsOf: Data(lines[node].utf8))
            try input.fileHandleForWriting.close()
        }
        var granted = 0, refused = 0
        for (process, _, output, _) in nodes {
            let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            #expect(process.terminationStatus == 0)
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

    func readUntil(_ marker: String, _ handle: FileHandle) async throws -> String {
        var received = Data()
        while !String(decoding: received, as: UTF8.self).contains(marker) {
            let chunk = handle.availableData
            guard !chunk.isEmpty else { throw LedgerError.storage("driver exited before \(marker)") }
            received.append(chunk)
        }
        return String(decoding: received, as: UTF8.self)
    }
}

extension Sequence {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var results: [T] = []
        for element in self { results.append(try await transform(element)) }
        return results
    }
}
