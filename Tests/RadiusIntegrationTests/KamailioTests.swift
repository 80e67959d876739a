import Foundation
import Testing

/// End to end with a real softswitch: sipp callers authenticate by SIP digest through Kamailio 5.6
/// (auth_radius, the shipped docs/kamailio/kamailio.cfg) against `ratel serve`; Kamailio's dialog
/// timer enforces the grant and acc_radius reports Start and Stop; the balances must come out as
/// the starting balances minus what `ratel rate` says each call cost, to the micro.
@Suite(.serialized) struct KamailioTests {
    static let plan = "Tests/RadiusIntegrationTests/sipp/plan.toml"
    static let landline = "442071234567", mobile = "447700900123"
    /// 0.15 at 1.80 a minute per second plus a 0.0125 connection fee: 4 s cost 0.1325, 5 s too much.
    static let shortGrant = 4
    /// `max_grant`: what a 5.00 PIN gets.
    static let longGrant = 60

    static let config = """
        \(RatelServer.listen)

        [plans]
        default = "\(plan)"

        [limits]
        max_grant = \(longGrant)
        reservation_grace = 30

        [[client]]
        name = "kamailio"
        address = "127.0.0.1"
        secret = "kamailio-secret"
        profile = "kamailio"
        require_message_authenticator = false
        """

    struct Call {
        let pin: String
        let password: String
        let number: String
        let talkMilliseconds: Int
        var shortOfMoney: Bool { number == KamailioTests.mobile }
    }

    @Test func sippCallsThroughKamailioAreBilledToTheMicroAndCutAtTheGrant() throws {
        let server = try RatelServer(config: Self.config)
        let regulars = try server.issue(count: 40, value: "5.00", maxCalls: 2)
        let shorts = try server.issue(count: 40, value: "0.15")
        try server.start()
        defer { server.stop() }
        let lab = try SIPLab(ratel: server, secret: "kamailio-secret")
        defer { lab.stop() }
        try lab.start()

        // Two calls on each 5.00 PIN, 0.5 to 3.4 s long, and one on each 0.15 PIN that would talk
        // for 8 s but may only talk for 4. sipp numbers calls from 1 in this order.
        // The short calls are spread among the others: Kamailio's dialog timer ends every expired
        // dialog of a one-second tick in turn, waiting for each one's Stop to be answered (durable)
        // before the next BYE, so twenty cuts in one tick would measure Ratel's disk, not the grant.
        var calls: [Call] = []
        for (index, (card, short)) in zip(regulars, shorts).enumerated() {
            calls.append(Call(pin: card.pin, password: card.password, number: Self.landline, talkMilliseconds: 500 + index * 700 % 3000))
            calls.append(Call(pin: short.pin, password: short.password, number: Self.mobile, talkMilliseconds: 8000))
            calls.append(Call(pin: card.pin, password: card.password, number: Self.landline, talkMilliseconds: 500 + index * 1300 % 3000))
        }
        let run = try lab.call(calls.map { ($0.pin, $0.password, $0.number, $0.talkMilliseconds) }, rate: 20, limit: 80)
        #expect(run.status == 0, "sipp failed:\n\(run.screen.suffix(3000))\n\(lab.kamailioLog.suffix(3000))")

        // Kamailio sends the last Stops as the last BYEs complete.
        let deadline = Date().addingTimeInterval(15)
        while try server.get("/calls").contains("\"key\""), Date() < deadline { Thread.sleep(forTimeInterval: 0.2) }

        let pid = run.log.split(separator: "\n").first.flatMap { $0.split(separator: " ").dropFirst().first }
            .flatMap { $0.split(separator: "-").dropFirst().first }.map(String.init) ?? ""
        let sipp = Self.ticks(run.log)
        let grants = lab.scriptLog("grant"), byes = lab.scriptLog("bye"), timeouts = lab.scriptLog("timeout")
        #expect(grants.count == calls.count && sipp["answered"]?.count == calls.count, "\(run.log)")

        // Each call's Stop duration (what Kamailio reported) against the talk time sipp saw.
        var durations: [String: Int] = [:]
        for (index, call) in calls.enumerated() {
            let id = "\(index + 1)-\(pid)", answered = sipp["answered"]?[id] ?? 0
            if call.shortOfMoney {
                #expect(grants[id] == Self.shortGrant, "\(id): grant \(String(describing: grants[id]))")
                // Cut by Kamailio's dialog timer, which ticks once a second, at the grant.
                let cut = try #require(sipp["cut"]?[id], "\(id) was not cut:\n\(run.log)") - answered
                #expect((Self.shortGrant * 1000 - 1500)...(Self.shortGrant * 1000 + 1000) ~= cut, "\(id) cut after \(cut) ms")
                #expect(sipp["hangup"]?[id] == nil && byes[id] == nil)
                // Whole seconds: at least the grant less the timer's one-second tick; more if it ran late.
                let reported = try #require(timeouts[id], "no Stop for \(id)")
                #expect((Self.shortGrant - 1)...(Self.shortGrant + 1) ~= reported, "\(id): \(reported) s")
                // Ratel debits no more than it reserved, the grant's cost (no allow_overdraft).
                durations[id] = min(reported, Self.shortGrant)
            } else {
                #expect(grants[id] == Self.longGrant, "\(id): grant \(String(describing: grants[id]))")
                let talked = try #require(sipp["hangup"]?[id], "\(id) was not hung up by the caller:\n\(run.log)") - answered
                #expect(sipp["cut"]?[id] == nil && timeouts[id] == nil)
                let reported = try #require(byes[id], "no Stop for \(id)")
                #expect((talked - 1000...talked + 500) ~= reported * 1000, "\(id): talked \(talked) ms, reported \(reported) s")
                durations[id] = reported
            }
        }

        let stopped = server.stop()
        #expect(stopped.status == 0, "\(stopped.output)")
        var rated: [String: Int64] = [:]
        func cost(_ number: String, _ seconds: Int) throws -> Int64 {
            if let known = rated["\(number)/\(seconds)"] { return known }
            // The plan has no time rules, so any start will do.
            let micros = try AccountingTests.ratedMicros(plan: Self.plan, number: number, start: Int64(Date().timeIntervalSince1970),
                                                         seconds: Int64(seconds))
            rated["\(number)/\(seconds)"] = micros
            return micros
        }
        // One debit per call, of exactly its rated cost, and nothing else: balances to the micro.
        for card in regulars + shorts {
            let show = try Self.show(server, card.pin)
            var expected: Int64 = shorts.contains { $0.pin == card.pin } ? 150_000 : 5_000_000
            for (index, call) in calls.enumerated() where call.pin == card.pin {
                let id = "\(index + 1)-\(pid)"
                let micros = try cost(call.number, durations[id] ?? -1)
                expected -= micros
                #expect(show.debits["kamailio/\(id)"] == [-micros], "\(id): \(show.debits)")
            }
            #expect(show.debits.count == calls.filter { $0.pin == card.pin }.count)
            #expect(show.balance == expected, "\(card.pin): \(show.balance) != \(expected)")
        }
        let check = try Tool.ratel(["ledger", "check", "--data", server.data])
        #expect(check.status == 0 && check.stdout.contains("\"problems\": []") && check.stdout.contains("\"open_reservations\": 0")
                && check.stdout.contains("\"overruns\": 0"), "\(check.stdout)")
    }

    /// sipp's `<log>` lines, `WHAT CALL-ID CLOCK-TICK-MS`, as WHAT -> Call-ID -> ms.
    static func ticks(_ log: String) -> [String: [String: Int]] {
        var ticks: [String: [String: Int]] = [:]
        for line in log.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count == 3, let tick = Int(fields[2]) else { continue }
            ticks[String(fields[0]), default: [:]][String(fields[1])] = tick
        }
        return ticks
    }

    /// `ratel pins show`: the balance and the debits by reference (the reservation key), in micros.
    static func show(_ server: RatelServer, _ pin: String) throws -> (balance: Int64, debits: [String: [Int64]]) {
        let show = try Tool.ratel(["pins", "show"] + server.storeArguments + [pin])
        guard let object = try JSONSerialization.jsonObject(with: Data(show.stdout.utf8)) as? [String: Any],
              let balance = object["balance"] as? String, let movements = object["movements"] as? [[String: Any]] else {
            throw ToolError("pins show: \(show.stdout)\(show.stderr)")
        }
        var debits: [String: [Int64]] = [:]
        for movement in movements where movement["kind"] as? String == "call" {
            debits[movement["reference"] as? String ?? "", default: []].append(AccountingTests.micros(movement["amount"] as? String ?? ""))
        }
        return (AccountingTests.micros(balance), debits)
    }
}
