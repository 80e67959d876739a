import Foundation
import Testing

/// A `ratel serve` child process on loopback ports the kernel picks, with its own data directory.
final class RatelServer {
    static let packageRoot = #filePath.components(separatedBy: "/Tests/")[0]

    let data: String
    /// A PostgreSQL ledger instead of the SQLite one in `data`.
    let database: String?
    let process = Process()
    /// Runs the server under this file-size limit (ulimit -f, in octets): writes beyond it fail.
    var fileSizeLimit: Int?
    /// More `ratel serve` options, after the configuration and the store's.
    var serveOptions: [String] = []
    private let output = Output()
    /// The threads reading the server's output, until its end.
    private let readers = DispatchGroup()
    var authV4 = 0, authV6 = 0, acctV4 = 0, acctV6 = 0, metrics = 0

    final class Output: @unchecked Sendable {
        private let lock = NSLock()
        private var text = ""
        func append(_ data: Data) { lock.withLock { text += String(decoding: data, as: UTF8.self) } }
        var value: String { lock.withLock { text } }
    }

    /// Ports the kernel picks, on both families: `start()` reads them from the start-up lines.
    static let listen = """
        [listen]
        auth = ["127.0.0.1:0", "[::1]:0"]
        acct = ["127.0.0.1:0", "[::1]:0"]
        metrics = "127.0.0.1:0"
        """

    static let config = """
        \(listen)

        [plans]
        default = "ratesheets/retail/plan.toml"

        [limits]
        max_failures = 3
        reservation_grace = 60

        [logging]
        level = "debug"

        [[client]]
        name = "lab"
        address = "127.0.0.1"
        secret = "lab-secret"

        [[client]]
        name = "gw"
        address = "::1"
        secret = "gw-secret"
        profile = "cisco"
        require_message_authenticator = false
        """

    init(config: String = RatelServer.config, database: String? = nil) throws {
        self.database = database
        data = FileManager.default.temporaryDirectory.appendingPathComponent("ratel-radius-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        try config.write(toFile: data + "/ratel.toml", atomically: true, encoding: .utf8)
    }

    /// Where the CLI finds this server's ledger.
    var storeArguments: [String] { ["--data", data] + (database.map { ["--database", $0] } ?? []) }

    /// Issues PINs before the server holds the ledger; returns (pin, password) pairs.
    func issue(count: Int, value: String, maxCalls: Int = 1) throws -> [(pin: String, password: String)] {
        let csv = data + "/cards-\(UUID().uuidString).csv"
        let result = try Tool.ratel(["pins", "generate"] + storeArguments + ["--count", String(count), "--value", value,
                                     "--activation", "immediate", "--max-calls", String(maxCalls), "--out", csv])
        guard result.status == 0 else { throw ToolError("pins generate: \(result.stderr)") }
        return try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n").dropFirst().map { line in
            let fields = line.split(separator: ",")
            return (String(fields[0]), String(fields[1]))
        }
    }

    func start() throws {
        let serve = ["serve", "--config", data + "/ratel.toml"] + storeArguments + serveOptions
        if let fileSizeLimit {
            // prlimit runs the command in its own process, so `process` is the server itself.
            process.executableURL = URL(fileURLWithPath: "/usr/bin/prlimit")
            process.arguments = ["--fsize=\(fileSizeLimit)", try Tool.ratelExecutable.path] + serve
        } else {
            process.executableURL = try Tool.ratelExecutable
            process.arguments = serve
        }
        process.currentDirectoryURL = URL(fileURLWithPath: Self.packageRoot)
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        let output = self.output
        for pipe in [out, err] {
            // A thread per pipe, reading to the end of the output, as `Tool.run`'s readers do. A
            // readabilityHandler is a libdispatch source: still watching a descriptor that closed
            // and was reused by the next pipe(), it crashed the test process in
            // _dispatch_event_loop_drain (signal 11), in a CI run of 6c45f8b and again in `make test`
            // at f7095ec, after the handler had been made to remove itself at the end of the output.
            let handle = pipe.fileHandleForReading
            readers.enter()
            Thread.detachNewThread { [readers] in
                while case let chunk = handle.availableData, !chunk.isEmpty { output.append(chunk) }
                readers.leave()
            }
        }
        try process.run()
        let deadline = Date().addingTimeInterval(30)
        while !output.value.contains("ratel: clients:") {
            guard process.isRunning, Date() < deadline else { throw ToolError("ratel serve did not start:\n\(output.value)") }
            Thread.sleep(forTimeInterval: 0.05)
        }
        let text = output.value
        func ports(after marker: String) -> [Int] {
            guard let range = text.range(of: marker) else { return [] }
            let line = text[range.upperBound...].prefix { $0 != ";" && $0 != "\n" }
            return line.split(separator: ",").compactMap { Int($0.split(separator: ":").last ?? "") }
        }
        let auth = ports(after: "authentication on "), acct = ports(after: "accounting on ")
        guard auth.count == 2, acct.count == 2 else { throw ToolError("cannot read the ports from:\n\(text)") }
        (authV4, authV6, acctV4, acctV6) = (auth[0], auth[1], acct[0], acct[1])
        if let range = text.range(of: "metrics on http://127.0.0.1:") {
            metrics = Int(text[range.upperBound...].prefix { $0.isNumber }) ?? 0
        }
    }

    /// SIGTERM, as an operator's service manager sends it; returns the exit status and all output.
    @discardableResult
    func stop() -> (status: Int32, output: String) {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        // The last lines may still be in the pipes when the exit is reported.
        _ = readers.wait(timeout: .now() + .seconds(5))
        return (process.terminationStatus, output.value)
    }

    var log: String { output.value }

    static let called = "359888123456"

    /// PAP from radclient on IPv4 as the `lab` client, with Acct-Session-Id `session`.
    func authorise(_ card: (pin: String, password: String), session: String, extra: [String] = []) throws -> RadclientReply {
        try Tool.radclient(["User-Name = \"\(card.pin)\"", "User-Password = \"\(card.password)\"",
                            "Called-Station-Id = \"\(Self.called)\"", "Acct-Session-Id = \"\(session)\"",
                            "Message-Authenticator = 0x00"] + extra,
                           server: "127.0.0.1:\(authV4)", kind: "auth", secret: "lab-secret")
    }

    /// An Accounting-Request from radclient as the `lab` client.
    func account(_ lines: [String]) throws -> RadclientReply {
        try Tool.radclient(lines + ["NAS-IP-Address = 127.0.0.1"], server: "127.0.0.1:\(acctV4)", kind: "acct", secret: "lab-secret")
    }

    func get(_ path: String) throws -> String {
        try Tool.run("/usr/bin/env", ["python3", "-c",
            "import urllib.request,sys; sys.stdout.write(urllib.request.urlopen('http://127.0.0.1:\(metrics)\(path)').read().decode())"]).stdout
    }

    /// The value of one series on /metrics (`name` or `name{labels}`, as printed), -1 if absent.
    func metric(_ series: String) throws -> Int {
        let line = try get("/metrics").split(separator: "\n").first { $0.hasPrefix(series + " ") }
        return line.flatMap { Double($0.dropFirst(series.count + 1)) }.map { Int($0) } ?? -1
    }

    /// A gauge's value once it reaches `atLeast`: gauges are set by the sweep, every few seconds.
    func gauge(_ name: String, atLeast: Int) throws -> Int {
        var last = -1
        for _ in 0..<60 {
            last = try metric(name)
            if last >= atLeast { return last }
            Thread.sleep(forTimeInterval: 0.25)
        }
        throw ToolError("\(name) stayed at \(last), below \(atLeast), for 15 s")
    }

    deinit {
        if process.isRunning { process.interrupt() }
        try? FileManager.default.removeItem(atPath: data)
    }
}

struct ToolError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Runs the real clients and the built `ratel`.
enum Tool {
    static var ratelExecutable: URL {
        get throws {
            let bundleFolder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            for folder in [bundleFolder, bundleFolder.deletingLastPathComponent()] {
                let candidate = folder.appendingPathComponent("ratel")
                if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            }
            let fallback = URL(fileURLWithPath: RatelServer.packageRoot + "/.build/debug/ratel")
            guard FileManager.default.isExecutableFile(atPath: fallback.path) else {
                throw ToolError("ratel binary not found; run `swift build --build-tests` first")
            }
            return fallback
        }
    }

    static func ratel(_ arguments: [String], timeoutSeconds: Int = 300) throws -> (status: Int32, stdout: String, stderr: String) {
        try run(ratelExecutable.path, arguments, timeoutSeconds: timeoutSeconds)
    }

    /// Runs a command to its end, or kills it after `timeoutSeconds` and throws: a server that
    /// should have refused to start fails the test instead of hanging the whole run.
    static func run(_ executable: String, _ arguments: [String], input: String? = nil,
                    timeoutSeconds: Int = 300) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: RatelServer.packageRoot)
        let out = Pipe(), err = Pipe(), stdin = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = stdin
        let exited = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in exited.signal() }
        try process.run()
        // Both pipes drain at once: a child that fills one while we wait on the other would stall.
        let stdout = PipeReader(out), stderr = PipeReader(err)
        if let input { stdin.fileHandleForWriting.write(Data(input.utf8)) }
        try stdin.fileHandleForWriting.close()
        guard exited.wait(timeout: .now() + .seconds(timeoutSeconds)) == .success else {
            kill(process.processIdentifier, SIGKILL)
            // Foundation reports the exit only once a grandchild holding the pipes lets go: wait
            // for neither longer than a second.
            _ = exited.wait(timeout: .now() + .seconds(1))
            throw ToolError("\(([executable] + arguments).joined(separator: " ")) still ran after \(timeoutSeconds) s; killed. "
                + "Its error output: \(stderr.text(waitingUpTo: 1))")
        }
        return (process.terminationStatus, stdout.text(), stderr.text())
    }

    /// Reads a pipe to its end on a thread of its own.
    private final class PipeReader: @unchecked Sendable {
        private let lock = NSLock()
        private let done = DispatchSemaphore(value: 0)
        private var data = Data()

        init(_ pipe: Pipe) {
            let handle = pipe.fileHandleForReading
            Thread.detachNewThread { [self] in
                while case let chunk = handle.availableData, !chunk.isEmpty {
                    lock.withLock { data.append(chunk) }
                }
                done.signal()
            }
        }

        /// What the child wrote: all of it once the pipe ends, or what came before the wait ran out.
        func text(waitingUpTo seconds: Int? = nil) -> String {
            if let seconds { _ = done.wait(timeout: .now() + .seconds(seconds)) } else { done.wait() }
            done.signal()
            return lock.withLock { String(decoding: data, as: UTF8.self) }
        }
    }

    /// radclient (Debian freeradius-utils): one try, one second, so a dropped request fails fast.
    static func radclient(_ attributes: [String], server: String, kind: String, secret: String,
                          extra: [String] = []) throws -> RadclientReply {
        let result = try run("/usr/bin/radclient", ["-x", "-r", "1", "-t", "2"] + extra + [server, kind, secret],
                             input: attributes.joined(separator: "\n") + "\n")
        return RadclientReply(status: result.status, text: result.stdout + result.stderr)
    }
}

/// What radclient printed about the reply.
struct RadclientReply: CustomStringConvertible {
    let status: Int32
    let text: String

    var code: String? {
        guard let range = text.range(of: "Received ") else { return nil }
        return String(text[range.upperBound...].prefix { $0 != " " })
    }

    /// The value radclient printed for an attribute of the reply (quotes removed).
    func value(_ name: String) -> String? {
        guard let received = text.range(of: "Received ") else { return nil }
        for line in text[received.upperBound...].split(separator: "\n") {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard trimmed.hasPrefix(name + " = ") else { continue }
            return String(trimmed.dropFirst(name.count + 3)).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        }
        return nil
    }

    var description: String { text }
}
