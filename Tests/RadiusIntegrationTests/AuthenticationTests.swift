import Foundation
import Testing

/// Access-Requests from radclient (FreeRADIUS 3.2) to a running `ratel serve`.
@Suite(.serialized) struct AuthenticationTests {
    @Test func papChapAndRefusals() throws {
        let server = try RatelServer()
        let cards = try server.issue(count: 3, value: "5.00")
        try server.start()
        defer { server.stop() }
        let lab = "127.0.0.1:\(server.authV4)"
        let (pin, password) = cards[0]

        let accept = try Tool.radclient(["User-Name = \"\(pin)\"", "User-Password = \"\(password)\"",
                                         "Called-Station-Id = \"+359888123456\"", "Acct-Session-Id = \"pap-1\"",
                                         "Message-Authenticator = 0x00"], server: lab, kind: "auth", secret: "lab-secret")
        #expect(accept.code == "Access-Accept", "\(accept)")
        let grant = Int(accept.value("Session-Timeout") ?? "") ?? 0
        #expect(grant > 60 && grant <= 10_800, "\(accept)")
        #expect(accept.value("Class") == "0x" + Array("ratel:lab/pap-1".utf8).map { String(format: "%02x", $0) }.joined())

        // A request of about 2 kB, as softswitches send with their extra attributes, is read whole;
        // its number is a SIP URI with an upper-case scheme and blanks around it.
        let filler = (0..<8).map { "Connect-Info = \"\(String(repeating: Character(String($0)), count: 240))\"" }
        let large = try Tool.radclient(["User-Name = \"\(cards[2].pin)\"", "User-Password = \"\(cards[2].password)\"",
                                        "Called-Station-Id = \" SIP:+359888123456@gw;user=phone \"", "Acct-Session-Id = \"pap-large\"",
                                        "Message-Authenticator = 0x00"] + filler, server: lab, kind: "auth", secret: "lab-secret")
        #expect(large.code == "Access-Accept", "\(large)")

        // CHAP: radclient hashes CHAP-Password with a fresh challenge.
        let chap = try Tool.radclient(["User-Name = \"\(cards[1].pin)\"", "CHAP-Password = \"\(cards[1].password)\"",
                                       "Called-Station-Id = \"00359888123456\"", "Message-Authenticator = 0x00"],
                                      server: lab, kind: "auth", secret: "lab-secret")
        #expect(chap.code == "Access-Accept" && chap.value("Session-Timeout") != nil, "\(chap)")

        let wrong = try Tool.radclient(["User-Name = \"\(pin)\"", "User-Password = \"nope\"", "Message-Authenticator = 0x00"],
                                       server: lab, kind: "auth", secret: "lab-secret")
        #expect(wrong.code == "Access-Reject" && wrong.value("Reply-Message") == "Wrong PIN or password", "\(wrong)")
        let unknown = try Tool.radclient(["User-Name = \"999\"", "User-Password = \"x\"", "Message-Authenticator = 0x00"],
                                         server: lab, kind: "auth", secret: "lab-secret")
        #expect(unknown.code == "Access-Reject" && unknown.value("Reply-Message") == "Unknown account", "\(unknown)")
        let noRate = try Tool.radclient(["User-Name = \"\(pin)\"", "User-Password = \"\(password)\"",
                                         "Called-Station-Id = \"abc\"", "Message-Authenticator = 0x00"],
                                        server: lab, kind: "auth", secret: "lab-secret")
        #expect(noRate.code == "Access-Reject" && noRate.value("Reply-Message") == "The called number is not a valid number")

        // Silently dropped: a wrong shared secret, and no Message-Authenticator where it is required.
        let badSecret = try Tool.radclient(["User-Name = \"\(pin)\"", "User-Password = \"\(password)\"", "Message-Authenticator = 0x00"],
                                           server: lab, kind: "auth", secret: "not-the-secret")
        #expect(badSecret.code == nil, "\(badSecret)")
        let noAuthenticator = try Tool.radclient(["User-Name = \"\(pin)\"", "User-Password = \"\(password)\""],
                                                 server: lab, kind: "auth", secret: "lab-secret")
        #expect(noAuthenticator.code == nil, "\(noAuthenticator)")

        // Status-Server is answered with no side effects.
        let status = try Tool.radclient(["Message-Authenticator = 0x00"], server: lab, kind: "status", secret: "lab-secret")
        #expect(status.code == "Access-Accept", "\(status)")

        let metrics = try server.get("/metrics")
        #expect(metrics.contains("reason=\"message_authenticator_mismatch\""), "\(metrics)")
        #expect(metrics.contains("reason=\"missing_message_authenticator\""))
        #expect(metrics.contains("outcome=\"reject_wrong_password\""))
        // The threads an operator looks for in `top -H` carry names.
        let tasks = "/proc/\(server.process.processIdentifier)/task"
        let threadNames = Set(try FileManager.default.contentsOfDirectory(atPath: tasks).compactMap {
            try? String(contentsOfFile: "\(tasks)/\($0)/comm", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        })
        #expect(threadNames.isSuperset(of: ["ratel-writer", "ratel-checkpt", "ratel-auth-0", "ratel-acct-0"]), "\(threadNames)")
        // The two Accepts' reservations were written before they were sent, and each write is timed.
        let ledgerWrites = metrics.split(separator: "\n").first { $0.hasPrefix("ratel_ledger_write_duration_seconds_count ") }
        #expect((ledgerWrites?.split(separator: " ").last).flatMap { Int($0) } ?? 0 >= 2, "\(metrics)")
        // Logs never carry a PIN or a password in full.
        let stopped = server.stop()
        #expect(stopped.status == 0 && stopped.output.contains("ratel: stopped"), "\(stopped.output)")
        #expect(!stopped.output.contains(pin) && !stopped.output.contains(password))
        // jemalloc serves malloc (linked, and reached by it), not only loaded.
        #expect(stopped.output.contains("ratel: memory allocator: jemalloc 5."), "\(stopped.output)")
    }

    @Test func bruteForceIsThrottled() throws {
        let server = try RatelServer()
        let cards = try server.issue(count: 1, value: "5.00")
        try server.start()
        defer { server.stop() }
        let lab = "127.0.0.1:\(server.authV4)"
        for _ in 0..<3 {
            let wrong = try Tool.radclient(["User-Name = \"\(cards[0].pin)\"", "User-Password = \"guess\"", "Message-Authenticator = 0x00"],
                                           server: lab, kind: "auth", secret: "lab-secret")
            #expect(wrong.value("Reply-Message") == "Wrong PIN or password", "\(wrong)")
        }
        // Locked out now: even the right password is refused unchecked.
        let locked = try Tool.radclient(["User-Name = \"\(cards[0].pin)\"", "User-Password = \"\(cards[0].password)\"",
                                         "Message-Authenticator = 0x00"], server: lab, kind: "auth", secret: "lab-secret")
        #expect(locked.code == "Access-Reject" && locked.value("Reply-Message") == "Too many failed attempts; try again later")
    }

    @Test func ciscoTwoStageOverIPv6WithoutMessageAuthenticator() throws {
        let server = try RatelServer()
        let cards = try server.issue(count: 1, value: "5.00")
        try server.start()
        defer { server.stop() }
        let gateway = "[::1]:\(server.authV6)"
        let (pin, password) = cards[0]
        let conference = "h323-conf-id=02102944 600a1899 3fd61009 0e2f3cc5"
        // Stage one: the account and PIN, no destination yet: the balance.
        let stageOne = try Tool.radclient(["User-Name = \"\(pin)\"", "User-Password = \"\(password)\"",
                                           "Cisco-AVPair = \"\(conference)\""], server: gateway, kind: "auth", secret: "gw-secret")
        #expect(stageOne.code == "Access-Accept", "\(stageOne)")
        #expect(stageOne.value("h323-credit-amount") == "h323-credit-amount=5.00", "\(stageOne)")
        #expect(stageOne.value("h323-currency") == "h323-currency=EUR")
        #expect(stageOne.value("h323-billing-model") == "h323-billing-model=1")
        #expect(stageOne.value("h323-return-code") == "h323-return-code=0")
        // Stage two: the destination, without the password again (the gateway's Call-Check).
        let stageTwo = try Tool.radclient(["User-Name = \"\(pin)\"", "Called-Station-Id = \"0011#00359888123456\"",
                                           "h323-conf-id = \"\(conference)\""], server: gateway, kind: "auth", secret: "gw-secret")
        #expect(stageTwo.code == "Access-Reject" && stageTwo.value("h323-return-code") == "h323-return-code=11", "\(stageTwo)")
        let plain = try Tool.radclient(["User-Name = \"\(pin)\"", "Called-Station-Id = \"00359888123456\"",
                                        "h323-conf-id = \"\(conference)\""], server: gateway, kind: "auth", secret: "gw-secret")
        #expect(plain.code == "Access-Accept", "\(plain)")
        let credit = plain.value("h323-credit-time").map { $0.replacingOccurrences(of: "h323-credit-time=", with: "") }
        #expect(credit != nil && credit == plain.value("Session-Timeout"), "\(plain)")
        // An unknown account gets Cisco's return code 1 beside the Reply-Message.
        let unknown = try Tool.radclient(["User-Name = \"4242\"", "User-Password = \"x\""], server: gateway, kind: "auth", secret: "gw-secret")
        #expect(unknown.code == "Access-Reject" && unknown.value("h323-return-code") == "h323-return-code=1", "\(unknown)")
    }

    /// Thousands of clients, blocks inside blocks: a datagram belongs to the most specific block
    /// that holds its source, whatever the order of the clients.
    @Test func theMostSpecificOfThousandsOfClientsAnswers() throws {
        var config = RatelServer.config + """

            [[client]]
            name = "loopback"
            address = "127.0.0.0/8"
            secret = "wide-secret"
            """
        for index in 0..<4_000 {
            config += "\n[[client]]\nname = \"gw-\(index)\"\naddress = \"10.\(index / 256).\(index % 256).1\"\nsecret = \"gw-\(index)\"\n"
        }
        config += "\n[[client]]\nname = \"tens\"\naddress = [\"10.0.0.0/8\", \"127.0.0.0/24\"]\nsecret = \"tens-secret\"\n"
        let server = try RatelServer(config: config)
        try server.start()
        defer { server.stop() }
        let status = try Tool.radclient(["Message-Authenticator = 0x00"], server: "127.0.0.1:\(server.authV4)", kind: "status",
                                        secret: "lab-secret")
        #expect(status.code == "Access-Accept", "\(status)")
        let script = RatelServer.packageRoot + "/Tests/RadiusIntegrationTests/pyrad_checks.py"
        func answered(from source: String, secret: String) throws -> Bool {
            let result = try Tool.run("/usr/bin/python3", [script, "from-source", "127.0.0.1", String(server.authV4), secret, source])
            return result.stdout.contains("\"reply\": true")
        }
        // 127.0.0.2 is in tens' /24 and loopback's /8: the /24 wins, so only its secret is answered.
        #expect(try answered(from: "127.0.0.2", secret: "tens-secret"))
        #expect(try !answered(from: "127.0.0.2", secret: "wide-secret"))
        #expect(try answered(from: "127.1.0.1", secret: "wide-secret"))
    }

    /// `make run` is `ratel serve --demo`: the PINs it prints are answered for the demo secret on
    /// both families, and a configuration that already has a loopback client is refused.
    @Test func theDemoPINsItPrintsAreAnswered() throws {
        let server = try RatelServer(config: RatelServer.listen + "\n")
        server.serveOptions = ["--demo"]
        try server.start()
        defer { server.stop() }
        // "  PIN / PASSWORD  balance 10.00 EUR"
        var cards: [(pin: String, password: String)] = []
        for line in server.log.split(separator: "\n") where line.hasPrefix("  ") {
            let fields = line.split(separator: " ")
            if fields.count >= 3, fields[1] == "/" { cards.append((String(fields[0]), String(fields[2]))) }
        }
        #expect(cards.count == 3, "\(server.log)")
        for (card, address) in zip(cards, ["127.0.0.1:\(server.authV4)", "[::1]:\(server.authV6)"]) {
            let accept = try Tool.radclient(["User-Name = \"\(card.pin)\"", "User-Password = \"\(card.password)\"",
                                             "Called-Station-Id = \"359888123456\"", "Message-Authenticator = 0x00"],
                                            server: address, kind: "auth", secret: "testing123")
            #expect(accept.code == "Access-Accept" && accept.value("Session-Timeout") != nil, "\(accept)")
        }

        let taken = try RatelServer(config: RatelServer.config)
        taken.serveOptions = ["--demo"]
        defer { taken.stop() }
        #expect(throws: ToolError.self) { try taken.start() }
        #expect(taken.log.contains("--demo adds a client for 127.0.0.1 and ::1, but 127.0.0.1/32 is client 'lab' in the configuration"),
                "\(taken.log)")
    }

    @Test func invalidConfigurationNamesTheKey() throws {
        // The same address for two clients would quietly belong to the first.
        // A server that took the configuration would never return: each case gets 30 s to refuse it.
        let twice = try RatelServer(config: RatelServer.config + "\n[[client]]\nname = \"again\"\naddress = \"127.0.0.1\"\nsecret = \"s\"\n")
        defer { twice.stop() }
        #expect(throws: ToolError.self) { try twice.start() }
        #expect(twice.log.contains("client[2].address: 127.0.0.1/32 is already the address of client 'lab'"), "\(twice.log)")
        let server = try RatelServer(config: "[[client]]\nname = \"x\"\naddress = \"10.0.0.0/33\"\nsecret = \"s\"\n")
        let result = try Tool.ratel(["serve", "--config", server.data + "/ratel.toml"], timeoutSeconds: 30)
        #expect(result.status == 1 && result.stderr.contains("client[0].address"), "\(result.stderr)")
        let unknownKey = try RatelServer(config: "[limits]\nreservation_grase = 5\n")
        let second = try Tool.ratel(["serve", "--config", unknownKey.data + "/ratel.toml"], timeoutSeconds: 30)
        #expect(second.status == 1 && second.stderr.contains("limits.reservation_grase: unknown key"), "\(second.stderr)")
        let badSpread = try RatelServer(config: "[listen]\nspread = \"random\"\n")
        let third = try Tool.ratel(["serve", "--config", badSpread.data + "/ratel.toml"], timeoutSeconds: 30)
        #expect(third.status == 1 && third.stderr.contains("listen.spread: must be one of source, identifier"), "\(third.stderr)")
    }

    /// Each listener binds a socket per core on one port; a second server must still be refused
    /// the port rather than quietly share its datagrams.
    @Test func aPortInUseStopsStartUp() throws {
        let first = try RatelServer()
        try first.start()
        defer { first.stop() }
        let taken = RatelServer.config.replacingOccurrences(of: RatelServer.listen, with: """
            [listen]
            auth = ["127.0.0.1:\(first.authV4)", "[::1]:0"]
            acct = ["127.0.0.1:0", "[::1]:0"]
            metrics = "127.0.0.1:0"
            """)
        let second = try RatelServer(config: taken)
        #expect(throws: ToolError.self) { try second.start() }
        let output = second.stop().output
        #expect(output.contains("listen.auth: cannot bind 127.0.0.1:\(first.authV4)") && output.contains("in use"), "\(output)")

        // The first server still answers on it.
        let reply = try Tool.radclient(["User-Name = \"999\"", "User-Password = \"x\"", "Message-Authenticator = 0x00"],
                                       server: "127.0.0.1:\(first.authV4)", kind: "auth", secret: "lab-secret")
        #expect(reply.code == "Access-Reject", "\(reply)")
    }

    /// A gateway sends from one port, which the kernel's own spreading gives to one socket and
    /// so to one event loop; `spread = "identifier"` has every loop take a share (radclient
    /// picks its Identifiers at random). The metrics show the split either way.
    @Test(arguments: ["source", "identifier"])
    func requestsFromOnePortAndTheEventLoops(spread: String) throws {
        let config = RatelServer.config.replacingOccurrences(of: RatelServer.listen,
                                                             with: RatelServer.listen + "\nthreads = 2\nspread = \"\(spread)\"")
        let server = try RatelServer(config: config)
        try server.start()
        defer { server.stop() }
        let requests = (0..<20).map { index in
            ["User-Name = \"9\(index)\"", "User-Password = \"x\"", "Message-Authenticator = 0x00"].joined(separator: "\n")
        }
        let result = try Tool.run("/usr/bin/radclient", ["-x", "-r", "1", "-t", "3", "-p", "20", "127.0.0.1:\(server.authV4)", "auth", "lab-secret"],
                                  input: requests.joined(separator: "\n\n") + "\n")
        #expect(result.stdout.components(separatedBy: "Received Access-Reject").count - 1 == 20, "\(result.stdout)")
        let metrics = try server.get("/metrics")
        var perLoop: [String: Int] = [:]
        for line in metrics.split(separator: "\n") where line.hasPrefix("ratel_radius_received_total{")
            && line.contains("listener=\"authentication\"") && line.contains("address=\"127.0.0.1:\(server.authV4)\"") {
            guard let loop = line.range(of: "loop=\""), let value = line.split(separator: " ").last.flatMap({ Int($0) }) else { continue }
            perLoop[String(line[loop.upperBound...].prefix { $0 != "\"" })] = value
        }
        let busy = perLoop.values.filter { $0 > 0 }.count
        #expect(perLoop.count == 2 && perLoop.values.reduce(0, +) == 20 && busy == (spread == "identifier" ? 2 : 1), "\(metrics)")
    }
}
