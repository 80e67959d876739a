import Foundation

/// A SIP softswitch set up as an operator would: Kamailio 5.6 with radcli, running the shipped
/// docs/kamailio/kamailio.cfg against a `ratel serve`, and a sipp gateway (UAS) behind it.
final class SIPLab {
    static let docs = RatelServer.packageRoot + "/docs/kamailio"
    static let scenarios = RatelServer.packageRoot + "/Tests/RadiusIntegrationTests/sipp"

    let folder: String
    let sipPort: Int
    let gatewayPort: Int
    private var kamailio: Background?
    private var gateway: Background?

    init(ratel: RatelServer, secret: String) throws {
        folder = ratel.data + "/sip"
        try FileManager.default.createDirectory(atPath: folder + "/run", withIntermediateDirectories: true)
        (sipPort, gatewayPort) = (try Self.freeUDPPort(), try Self.freeUDPPort())
        // The shipped radcli files, pointed at this server's ports and this folder.
        let radcli = try String(contentsOfFile: Self.docs + "/radiusclient.conf", encoding: .utf8)
            .replacingOccurrences(of: "127.0.0.1:1812", with: "127.0.0.1:\(ratel.authV4)")
            .replacingOccurrences(of: "127.0.0.1:1813", with: "127.0.0.1:\(ratel.acctV4)")
            .replacingOccurrences(of: "/etc/kamailio/ratel-servers", with: folder + "/servers")
            .replacingOccurrences(of: "/etc/kamailio/dictionary.ratel", with: Self.docs + "/dictionary.ratel")
        try radcli.write(toFile: folder + "/radiusclient.conf", atomically: true, encoding: .utf8)
        try "127.0.0.1\t\(secret)\n".write(toFile: folder + "/servers", atomically: true, encoding: .utf8)
    }

    func start() throws {
        gateway = try Background("/usr/bin/sipp", ["-sf", Self.scenarios + "/callee.xml", "-i", "127.0.0.1",
                                                  "-p", String(gatewayPort), "-nostdin"], log: folder + "/gateway.log")
        kamailio = try Background("/usr/sbin/kamailio", [
            "-DD", "-E", "-f", Self.docs + "/kamailio.cfg", "-Y", folder + "/run", "-P", folder + "/run/kamailio.pid",
            "-A", "SIP_LISTEN=udp:127.0.0.1:\(sipPort)", "-A", "RADIUS_CONFIG=\"\(folder)/radiusclient.conf\"",
            "-A", "GATEWAY=\"sip:127.0.0.1:\(gatewayPort)\"",
        ], log: folder + "/kamailio.log")
        let deadline = Date().addingTimeInterval(15)
        while (try? Self.bindUDP(port: sipPort)) != nil || (try? Self.bindUDP(port: gatewayPort)) != nil {
            guard kamailio?.isRunning == true, gateway?.isRunning == true, Date() < deadline else {
                throw ToolError("kamailio or the sipp gateway did not start:\n\(kamailioLog)\n\(Self.read(folder + "/gateway.log"))")
            }
            Thread.sleep(forTimeInterval: 0.1)
        }
    }

    var kamailioLog: String { Self.read(folder + "/kamailio.log") }

    static func read(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }

    /// Lines the shipped script logs as `ratel: WHAT CALL-ID VALUE`, by Call-ID.
    func scriptLog(_ what: String) -> [String: Int] {
        var values: [String: Int] = [:]
        for line in kamailioLog.split(separator: "\n") {
            guard let range = line.range(of: "ratel: \(what) ") else { continue }
            let fields = line[range.upperBound...].split(separator: " ")
            if fields.count >= 2, let value = Int(fields[1]) { values[String(fields[0])] = value }
        }
        return values
    }

    /// Runs the caller scenario over `calls` (pin, password, number, talk ms) and returns sipp's
    /// exit status, its screen and its `<log>` lines.
    func call(_ calls: [(pin: String, password: String, number: String, talkMilliseconds: Int)],
              rate: Int, limit: Int) throws -> (status: Int32, screen: String, log: String) {
        let injection = "SEQUENTIAL\n" + calls.map {
            "\($0.pin);\($0.password);\($0.number);\($0.talkMilliseconds);[authentication username=\($0.pin) password=\($0.password)]\n"
        }.joined()
        try injection.write(toFile: folder + "/calls.csv", atomically: true, encoding: .utf8)
        let result = try Tool.run("/usr/bin/sipp", [
            "127.0.0.1:\(sipPort)", "-sf", Self.scenarios + "/caller.xml", "-inf", folder + "/calls.csv",
            "-i", "127.0.0.1", "-p", String(try Self.freeUDPPort()), "-m", String(calls.count), "-r", String(rate),
            "-l", String(limit), "-trace_logs", "-log_file", folder + "/caller.log", "-trace_err",
            "-error_file", folder + "/caller-errors.log", "-nostdin", "-timeout", "120s", "-timeout_error",
        ])
        return (result.status, result.stdout + result.stderr + Self.read(folder + "/caller-errors.log"), Self.read(folder + "/caller.log"))
    }

    func stop() {
        kamailio?.stop()
        gateway?.stop()
    }

    deinit { stop() }

    static func freeUDPPort() throws -> Int { try bindUDP(port: 0) }

    /// Binds a UDP socket on loopback and lets it go; fails while someone else listens there.
    static func bindUDP(port: Int) throws -> Int {
        let socket = Foundation.socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard socket >= 0 else { throw ToolError("socket: \(errno)") }
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, length) == 0 && getsockname(socket, $0, &length) == 0 }
        }
        guard bound else { throw ToolError("bind: \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// A child process whose output goes to a file, never to the test runner's stderr (a child left
/// holding it would keep `swift test` waiting). Spawned with no blocked signals and default
/// handlers, since the test runner blocks some (Kamailio's timers need SIGALRM), in a process
/// group of its own so that stopping it takes Kamailio's workers too.
final class Background {
    private let pid: pid_t
    private var exited = false

    init(_ executable: String, _ arguments: [String], log: String) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t(), all = sigset_t()
        sigemptyset(&none)
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
        guard status == 0 else { throw ToolError("cannot start \(executable): error \(status)") }
        self.pid = pid
    }

    var isRunning: Bool {
        guard !exited else { return false }
        var status: Int32 = 0
        if waitpid(pid, &status, WNOHANG) == pid { exited = true }
        return !exited
    }

    func stop() {
        guard isRunning else { return }
        kill(-pid, SIGKILL)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        exited = true
    }
}
