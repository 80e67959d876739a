import Foundation
import Ledger
import RatingEngine
import Synchronization
import Testing

/// Kills a process that is writing to the ledger with SIGKILL at random moments, and checks
/// after each restart that everything it acknowledged survived, exactly once.
@Suite struct CrashTests {
    struct Acknowledged {
        var granted: [String] = []
        var committed: [String] = []
        var recharges: [String] = []
    }

    /// One life of the child: send `lines`, kill it `delay` after it acknowledged one operation
    /// of each kind sent, return what it acknowledged.
    func run(_ fixture: StoreFixture, lines: [String], killAfter delay: Duration) async throws -> Acknowledged {
        let driver = try await LedgerDriver.start(fixture)
        driver.send(lines)
        // The clock starts once every kind of operation sent was acknowledged once, not at
        // "ready": on a machine busy with other suites, a child on PostgreSQL could take longer
        // than the whole delay to answer its first commit, and 24 lives that acknowledged no
        // commit test no commit.
        // A child that answers nothing at all is killed by the watchdog, and the round then fails.
        let killer = KillOnce(driver.process.processIdentifier)
        DispatchQueue.global().asyncAfter(deadline: .now() + 60) { killer.kill() }
        let kinds = Set(lines.compactMap { $0.split(separator: " ").first.map { "ok \($0) " } })
        var received = Data()
        while case let text = String(decoding: received, as: UTF8.self), !kinds.allSatisfy(text.contains) {
            let chunk = driver.output.availableData
            if chunk.isEmpty { break }
            received.append(chunk)
        }
        try await Task.sleep(for: delay)
        killer.kill()
        received.append(driver.output.readDataToEndOfFile())
        driver.process.waitUntilExit()
        try? driver.input.close()
        #expect(driver.process.terminationReason == .uncaughtSignal)
        var acknowledged = Acknowledged()
        for line in String(decoding: received, as: UTF8.self).split(separator: "\n") {
            let words = line.split(separator: " ").map(String.init)
            guard words.first == "ok", words.count >= 3 else { continue }
            switch words[1] {
            case "reserve" where words.last == "granted": acknowledged.granted.append(words[2])
            case "commit": acknowledged.committed.append(words[2])
            case "recharge": acknowledged.recharges.append(words[2])
            default: break
            }
        }
        return acknowledged
    }

    /// SIGKILL once: a pid reaped after the first could already be another process's.
    final class KillOnce: Sendable {
        private let pid: pid_t
        private let done = Mutex(false)

        init(_ pid: pid_t) { self.pid = pid }

        func kill() {
            done.withLock { done in
                if !done { Glibc.kill(pid, SIGKILL) }
                done = true
            }
        }
    }

    @Test(arguments: StoreKind.available)
    func acknowledgedOperationsSurviveKillNine(kind: StoreKind) async throws {
        let fixture = StoreFixture(kind)
        let setup = try await fixture.open()
        let (_, cards) = try await setup.generate(
            BatchSpec(count: 3, faceValue: StoreFixture.money("500"), activation: .immediate, maxCalls: 10_000),
            context: StoreFixture.context(), progress: nil)
        await setup.close()
        let pins = cards.map(\.pin)

        var random = SystemRandomNumberGenerator()
        var granted: [String] = []
        var committed = Set<String>()
        var recharges: [String] = []
        var uncommitted: [String] = []
        var kills = 0
        for round in 0..<24 {
            var lines: [String] = []
            for index in 0..<400 {
                let pin = pins[index % pins.count]
                switch index % 4 {
                case 0, 1: lines.append("reserve r\(round)-\(index) \(pin) 10000")
                case 2: if let key = uncommitted.popLast() { lines.append("commit \(key) 7000") }
                default: lines.append("recharge \(pin) 1000 rc\(round)-\(index)")
                }
            }
            // A shared-store operation is a network round trip or several: give its lives longer.
            let delay = Duration.milliseconds(Int.random(in: kind == .sqlite ? 5...120 : 20...600, using: &random))
            let acknowledged = try await run(fixture, lines: lines, killAfter: delay)
            kills += 1
            granted += acknowledged.granted
            committed.formUnion(acknowledged.committed)
            recharges += acknowledged.recharges
            // Retried next life: commits that were not acknowledged, and reservations to close.
            let sentCommits = Set(lines.filter { $0.hasPrefix("commit ") }.map { String($0.split(separator: " ")[1]) })
            uncommitted = Array(sentCommits.subtracting(acknowledged.committed)) + acknowledged.granted
        }
        #expect(kills >= 20)
        #expect(!granted.isEmpty && !committed.isEmpty && !recharges.isEmpty, "the child was killed before doing anything")

        let store = try await fixture.open()
        for key in granted {
            #expect((try? await store.reservation(key: key)) != nil, "acknowledged reservation \(key) lost")
        }
        for key in committed {
            let reservation = try await store.reservation(key: key)
            #expect(reservation.state == .committed && reservation.finalCost == 7_000, "commit \(key)")
            // A retry changes nothing.
            #expect(try await store.commit(key: key, cost: 99_000, details: "retry", at: StoreFixture.now) == reservation)
        }
        var references: [String: Int] = [:]
        for pin in pins {
            for movement in try await store.movements(pin: pin) where movement.kind == .recharge {
                references[movement.reference, default: 0] += 1
            }
        }
        for reference in recharges { #expect(references[reference] == 1, "recharge \(reference)") }
        #expect(references.values.allSatisfy { $0 == 1 })
        let report = try await store.check()
        #expect(report.problems.isEmpty, "\(report.problems.prefix(5))")
        await store.close()
        await fixture.remove()
    }
}
