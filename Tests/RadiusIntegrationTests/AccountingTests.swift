import Foundation
import Ledger
import Testing

/// Accounting from radclient and pyrad: debits equal the rated cost, once, and are durable.
@Suite(.serialized) struct AccountingTests {
    /// What `ratel rate` says a call costs, in micros.
    static func ratedMicros(plan: String = "ratesheets/retail/plan.toml", number: String = RatelServer.called,
                            start: Int64, seconds: Int64) throws -> Int64 {
        let iso = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: TimeInterval(start)))
        let rate = try Tool.ratel(["rate", "--plan", plan, "--number", number, "--start", iso, "--duration", String(seconds)])
        guard let range = rate.stdout.range(of: "\"cost\": \"") else { throw ToolError("ratel rate: \(rate.stdout)\(rate.stderr)") }
        return micros(String(rate.stdout[range.upperBound...].prefix { $0 != "\"" }))
    }

    static func micros(_ text: String) -> Int64 {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        let fraction = parts.count > 1 ? String(parts[1]).padding(toLength: 6, withPad: "0", startingAt: 0) : "000000"
        let whole = Int64(parts[0]) ?? 0
        return whole * 1_000_000 + (whole < 0 || text.hasPrefix("-") ? -1 : 1) * (Int64(fraction) ?? 0)
    }

    static func balance(_ server: RatelServer, _ pin: String) throws -> Int64 {
        let show = try Tool.ratel(["pins", "show", "--data", server.data, pin])
        guard let range = show.stdout.range(of: "\"balance\": \"") else { throw ToolError("pins show: \(show.stderr)") }
        return micros(String(show.stdout[range.upperBound...].prefix { $0 != "\"" }))
    }

    /// The call record a Stop left on the committed reservation, read back through the store.
    static func callRecord(_ server: RatelServer, key: String) async throws -> [String: Any] {
        let store = try SQLiteLedgerStore.open(directory: server.data)
        let reservation = try await store.reservation(key: key)
        await store.close()
        let parsed = try JSONSerialization.jsonObject(with: Data(reservation.details.utf8))
        guard let record = parsed as? [String: Any] else { throw ToolError("not a JSON object: \(reservation.details)") }
        return record
    }

    @Test func startInterimStopDebitsTheRatedCostOnce() async throws {
        let server = try RatelServer()
        let cards = try server.issue(count: 4, value: "5.00")
        try server.start()
        defer { server.stop() }
        let now = Int64(Date().timeIntervalSince1970)

        #expect(try server.authorise(cards[0], session: "call-1").code == "Access-Accept")
        let start = try server.account(["Acct-Status-Type = Start", "Acct-Session-Id = \"call-1\"", "Event-Timestamp = \(now - 125)"])
        #expect(start.code == "Accounting-Response", "\(start)")
        let live = try server.get("/calls")
        #expect(live.contains("\"key\": \"lab/call-1\"") && live.contains("\"state\": \"answered\""), "\(live)")
        let interim = try server.account(["Acct-Status-Type = Interim-Update", "Acct-Session-Id = \"call-1\"", "Acct-Session-Time = 60"])
        #expect(interim.code == "Accounting-Response")
        let stop = try server.account(["Acct-Status-Type = Stop", "Acct-Session-Id = \"call-1\"", "Acct-Session-Time = 125",
                                        "Event-Timestamp = \(now)", "Acct-Terminate-Cause = User-Request"])
        #expect(stop.code == "Accounting-Response", "\(stop)")
        // The same Stop again, as a new packet (Acct-Delay-Time changed): answered, not debited twice.
        let again = try server.account(["Acct-Status-Type = Stop", "Acct-Session-Id = \"call-1\"", "Acct-Session-Time = 125",
                                         "Event-Timestamp = \(now)", "Acct-Delay-Time = 3"])
        #expect(again.code == "Accounting-Response")

        // A call that failed downstream releases its reservation without a charge.
        #expect(try server.authorise(cards[1], session: "call-2").code == "Access-Accept")
        #expect(try server.account(["Acct-Status-Type = Failed", "Acct-Session-Id = \"call-2\""]).code == "Accounting-Response")

        // Accounting-On: the NAS rebooted; every call it had open before is gone.
        #expect(try server.authorise(cards[2], session: "call-3").code == "Access-Accept")
        #expect(try server.get("/calls").contains("lab/call-3"))
        #expect(try server.account(["Acct-Status-Type = Accounting-On", "Acct-Session-Id = \"00000000\"",
                                     "Event-Timestamp = \(Int64(Date().timeIntervalSince1970) + 1)"]).code == "Accounting-Response")
        #expect(try !server.get("/calls").contains("lab/call-3"))

        // A Stop the server never authorised (no Access-Request, no Start) still bills the caller.
        #expect(try server.account(["Acct-Status-Type = Stop", "Acct-Session-Id = \"walk-in\"", "User-Name = \"\(cards[3].pin)\"",
                                     "Called-Station-Id = \"\(RatelServer.called)\"", "Acct-Session-Time = 60",
                                     "Event-Timestamp = \(now)"]).code == "Accounting-Response")

        let stopped = server.stop()
        #expect(stopped.status == 0, "\(stopped.output)")
        let cost = try Self.ratedMicros(start: now - 125, seconds: 125)
        #expect(try Self.balance(server, cards[0].pin) == 5_000_000 - cost)
        let record = try await Self.callRecord(server, key: "lab/call-1")
        #expect(record["status"] as? String == "stop" && record["session_id"] as? String == "call-1", "\(record)")
        #expect(record["start"] as? Int64 == now - 125 && record["duration"] as? Int64 == 125, "\(record)")
        #expect(record["rated_micros"] as? Int64 == cost && record["terminate_cause"] as? Int64 == 1, "\(record)")
        #expect((record["billed_seconds"] as? Int64 ?? 0) >= 125 && !(record["prefix"] as? String ?? "").isEmpty, "\(record)")
        #expect(try Self.balance(server, cards[1].pin) == 5_000_000)
        #expect(try Self.balance(server, cards[2].pin) == 5_000_000)
        #expect(try Self.balance(server, cards[3].pin) == 5_000_000 - Self.ratedMicros(start: now - 60, seconds: 60))
        let check = try Tool.ratel(["ledger", "check", "--data", server.data])
        #expect(check.status == 0 && check.stdout.contains("\"problems\": []"), "\(check.stdout)")
    }

    /// A gateway whose session counter started again sends a finished call's Acct-Session-Id:
    /// the new call is authorised, answered and billed on its own, and the first debit stays.
    @Test func aReusedSessionIdIsANewCallBilledOnItsOwn() throws {
        let server = try RatelServer()
        let cards = try server.issue(count: 1, value: "5.00")
        try server.start()
        defer { server.stop() }
        let now = Int64(Date().timeIntervalSince1970)
        var expected: Int64 = 5_000_000
        for (start, seconds) in [(now - 400, Int64(60)), (now - 200, Int64(90))] {
            #expect(try server.authorise(cards[0], session: "0000001F").code == "Access-Accept")
            // A retry (its Accept lost) finds the same reservation, not a third call.
            #expect(try server.authorise(cards[0], session: "0000001F").code == "Access-Accept")
            let answered = try server.account(["Acct-Status-Type = Start", "Acct-Session-Id = \"0000001F\"", "Event-Timestamp = \(start)"])
            #expect(answered.code == "Accounting-Response")
            let stop = try server.account(["Acct-Status-Type = Stop", "Acct-Session-Id = \"0000001F\"",
                                           "Acct-Session-Time = \(seconds)", "Event-Timestamp = \(start + seconds)"])
            #expect(stop.code == "Accounting-Response")
            expected -= try Self.ratedMicros(start: start, seconds: seconds)
        }
        // The second call's Stop again, as a new packet: nothing more.
        let again = try server.account(["Acct-Status-Type = Stop", "Acct-Session-Id = \"0000001F\"", "Acct-Session-Time = 90",
                                        "Event-Timestamp = \(now - 110)", "Acct-Delay-Time = 2"])
        #expect(again.code == "Accounting-Response")
        #expect(try !server.get("/calls").contains("0000001F"))
        server.stop()
        #expect(try Self.balance(server, cards[0].pin) == expected)
    }

    @Test func concurrentCallsOnOnePinNeverOverdraw() throws {
        let server = try RatelServer()
        let card = try server.issue(count: 1, value: "1.00", maxCalls: 20)[0]
        try server.start()
        defer { server.stop() }
        let requests = (0..<12).map { index in
            ["User-Name = \"\(card.pin)\"", "User-Password = \"\(card.password)\"", "Called-Station-Id = \"\(RatelServer.called)\"",
             "Acct-Session-Id = \"parallel-\(index)\"", "Message-Authenticator = 0x00"].joined(separator: "\n")
        }
        let result = try Tool.run("/usr/bin/radclient", ["-x", "-r", "1", "-t", "3", "-p", "12", "127.0.0.1:\(server.authV4)", "auth", "lab-secret"],
                                  input: requests.joined(separator: "\n\n") + "\n")
        let accepted = result.stdout.components(separatedBy: "Received Access-Accept").count - 1
        let rejected = result.stdout.components(separatedBy: "Received Access-Reject").count - 1
        #expect(accepted >= 1 && accepted + rejected == 12, "\(result.stdout)")
        // Each accepted call talks for its whole grant; the debits together stay within the balance.
        var grants: [(session: String, seconds: Int)] = []
        for block in result.stdout.components(separatedBy: "Received Access-Accept").dropFirst() {
            let reply = RadclientReply(status: 0, text: "Received " + block)
            guard let seconds = reply.value("Session-Timeout").flatMap(Int.init), let hex = reply.value("Class") else { continue }
            let bytes = stride(from: 2, to: hex.count, by: 2).compactMap { offset -> UInt8? in
                let start = hex.index(hex.startIndex, offsetBy: offset)
                return UInt8(hex[start..<hex.index(start, offsetBy: 2)], radix: 16)
            }
            grants.append((String(decoding: bytes, as: UTF8.self).replacingOccurrences(of: "ratel:lab/", with: ""), seconds))
        }
        #expect(grants.count == accepted, "\(result.stdout)")
        let calls = try server.get("/calls")
        let held = calls.components(separatedBy: "\"held\": \"").dropFirst().map { Self.micros(String($0.prefix { $0 != "\"" })) }
        #expect(held.reduce(0, +) <= 1_000_000 && held.count == accepted, "\(calls)")
        let now = Int64(Date().timeIntervalSince1970)
        for (session, seconds) in grants {
            let stop = try server.account(["Acct-Status-Type = Stop", "Acct-Session-Id = \"\(session)\"", "Acct-Session-Time = \(seconds)",
                                            "Event-Timestamp = \(now)"])
            #expect(stop.code == "Accounting-Response")
        }
        server.stop()
        #expect(try Self.balance(server, card.pin) >= 0)
        let check = try Tool.ratel(["ledger", "check", "--data", server.data])
        #expect(check.status == 0 && check.stdout.contains("\"problems\": []") && check.stdout.contains("\"overruns\": 0"), "\(check.stdout)")
    }

    @Test func retransmissionsGetTheCachedReplyAndUnknownClientsNone() async throws {
        let server = try RatelServer()
        let card = try server.issue(count: 1, value: "5.00")[0]
        try server.start()
        defer { server.stop() }
        let script = RatelServer.packageRoot + "/Tests/RadiusIntegrationTests/pyrad_checks.py"
        let sentFrom = Int64(Date().timeIntervalSince1970)
        let observed = try Tool.run("/usr/bin/python3", [script, "retransmit", "127.0.0.1", String(server.authV4), String(server.acctV4),
                                                         "lab-secret", card.pin, card.password])
        let sentUntil = Int64(Date().timeIntervalSince1970)
        #expect(observed.status == 0, "\(observed.stderr)")
        let json = observed.stdout
        #expect(json.contains("\"auth_first_code\": 2") && json.contains("\"auth_identical\": true"), "\(json)")
        #expect(json.contains("\"auth_proxy_states\": [\"first\", \"second\"]") && json.contains("\"auth_message_authenticator_first\": true"))
        #expect(json.contains("\"acct_1_identical\": true") && json.contains("\"acct_2_identical\": true") && json.contains("\"late_stop_code\": 5"))
        // A burst from one socket: replies of one size to one NAS leave together (segmented),
        // and must still arrive one datagram per request, each answering its own.
        // Three rounds with the same Identifiers, as a busy NAS reuses them: the duplicate
        // cache remembers each (source, Identifier) once, not once per request.
        let burst = try Tool.run("/usr/bin/python3", [script, "burst", "127.0.0.1", String(server.acctV4), "lab-secret", "150", "3"])
        #expect(burst.stdout.contains("\"answered\": 450, \"wrong\": [], \"sizes\": [20, 31]"), "\(burst.stdout)\(burst.stderr)")
        let cached = try server.gauge("ratel_radius_duplicate_cache_items", atLeast: 150)
        #expect(cached <= 170, "\(cached) requests remembered after 450 from 150 Identifiers")
        let stranger = try Tool.run("/usr/bin/python3", [script, "from-source", "127.0.0.1", String(server.authV4), "lab-secret"])
        #expect(stranger.stdout.contains("\"reply\": false"), "\(stranger.stdout)\(stranger.stderr)")
        #expect(try server.get("/metrics").contains("reason=\"unknown_client\""))
        let metrics = try server.get("/metrics")
        #expect(metrics.contains("outcome=\"duplicate_resent\""), "\(metrics)")
        server.stop()
        // One call of 61 s, debited once although its Stop came three times. It is rated from the
        // start the server recorded (its Stop carried no timestamp): a start guessed from the clock
        // here, seconds later, may fall on the other side of a rule boundary (22:00 in Sofia).
        let record = try await Self.callRecord(server, key: "lab/retry-1")
        let start = record["start"] as? Int64 ?? 0
        #expect(start >= sentFrom - 61 && start <= sentUntil && record["duration"] as? Int64 == 61, "\(record)")
        let cost = try Self.ratedMicros(start: start, seconds: 61)
        #expect(record["rated_micros"] as? Int64 == cost, "\(record)")
        #expect(try Self.balance(server, card.pin) == 5_000_000 - cost)
    }
}
