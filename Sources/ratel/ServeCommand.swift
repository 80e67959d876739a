import ArgumentParser
import Foundation
import Ledger
import Logging
import Metrics
import NIOCore
import NIOHTTP1
import NIOPosix
import Prometheus
import RadiusProtocol
import RadiusServer
import RatingEngine
import ServiceLifecycle
import UnixSignals

/// `ratel serve`: the RADIUS server. With no arguments it runs on the embedded defaults (SQLite
/// in ./ratel-data, the shipped retail plan); `--demo` adds a loopback client and demo PINs.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Answer NAS clients over RADIUS: authorise prepaid calls, reserve and debit balances."
    )

    @Option(help: "Configuration file (TOML); every key and its default is in docs/configuration.md.")
    var config: String?

    @Flag(help: "Add a client for 127.0.0.1 and ::1 with secret 'testing123', and three demo PINs (printed).")
    var demo = false

    @Option(name: .customLong("data"), help: "Data directory of the SQLite ledger (overrides store.data).")
    var dataDirectory: String?

    @Option(name: .customLong("database"), help: "PostgreSQL URL of a shared ledger (overrides store.database).")
    var databaseURL: String?

    @Option(name: .customLong("auth"), help: "Authentication listener HOST:PORT, repeatable (overrides listen.auth).")
    var authListen: [String] = []

    @Option(name: .customLong("acct"), help: "Accounting listener HOST:PORT, repeatable (overrides listen.acct).")
    var acctListen: [String] = []

    @Option(name: .customLong("metrics"), help: "HOST:PORT of the metrics and live-calls HTTP port (overrides listen.metrics).")
    var metricsListen: String?

    func run() async throws {
        // A file-size limit (ulimit -f) reached by the ledger's log should fail that write, which
        // the ledger reports and survives, rather than kill the server mid-commit (SIGXFSZ's
        // default), as PostgreSQL also ignores it.
        signal(SIGXFSZ, SIG_IGN)
        var settings = try config.map { path throws(ConfigurationError) in try ServeConfiguration.load(path: path) } ?? ServeConfiguration()
        if let dataDirectory { settings.dataDirectory = dataDirectory }
        if let databaseURL { settings.databaseURL = databaseURL }
        if !authListen.isEmpty { settings.authListen = authListen }
        if !acctListen.isEmpty { settings.acctListen = acctListen }
        if let metricsListen { settings.metricsListen = metricsListen }
        if demo {
            settings.clients.append(try DemoSetup.client())
            if let repeated = ServeConfiguration.repeatedBlock(in: settings.clients) {
                throw ConfigurationError("--demo adds a client for 127.0.0.1 and ::1, but \(repeated.network) is client '\(repeated.owner)' in the configuration")
            }
        }
        let runner = ServeRunner(settings: settings, demo: demo)
        try runner.validateAddresses()

        let level = settings.logLevel
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        // RADIUS answers take tens of microseconds to a few milliseconds; the default buckets start at 5 ms.
        // benchmarks/ledger-writes.py counts the ledger's writes over 5, 25 and 100 ms from these bounds.
        factory.defaultDurationHistogramBuckets = [100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 100_000, 1_000_000]
            .map { Duration.microseconds($0) }
        MetricsSystem.bootstrap(factory)
        try await runner.run(registry: registry)
    }
}

/// Wires the configuration into running parts and keeps them until SIGTERM or SIGINT.
struct ServeRunner {
    let settings: ServeConfiguration
    let demo: Bool

    func validateAddresses() throws {
        for (key, list) in [("listen.auth", settings.authListen), ("listen.acct", settings.acctListen),
                            ("listen.metrics", [settings.metricsListen])] {
            for address in list where HostPort(address) == nil {
                throw ConfigurationError("\(key): '\(address)' is not HOST:PORT (IPv6 as [::1]:1812)")
            }
        }
    }

    func run(registry: PrometheusCollectorRegistry) async throws {
        let logger = Logger(label: "ratel")
        let clock: @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) }
        let plans = PlanBook()
        for (name, path) in settings.plans.sorted(by: { $0.key < $1.key }) {
            do { plans.install(try PlanLoader.load(path: path), as: name) } catch {
                throw ConfigurationError("plans.\(name): \(error)")
            }
        }
        let store = try await LedgerOptions.openStore(dataDirectory: settings.dataDirectory, databaseURL: settings.databaseURL,
                                                      keyFile: settings.keyFile)
        if demo { try await DemoSetup.printCards(store: store, plans: plans) }
        let prepaid = PrepaidSettings(plans: plans, reservationGraceSeconds: settings.reservationGraceSeconds,
                                      maxGrantSeconds: settings.maxGrantSeconds, allowOverdraft: settings.allowOverdraft,
                                      throttle: settings.throttle)
        let engine = RadiusEngine(clients: ClientTable(settings.clients), store: store, prepaid: prepaid,
                                  settings: .init(attributeLimit: settings.maxAttributes,
                                                  duplicateLifetimeSeconds: settings.duplicateLifetimeSeconds),
                                  logger: logger, clock: clock)
        try await engine.recoverLiveCalls()

        let threads = settings.eventLoops ?? Self.defaultEventLoops(store)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        var listeners: [UDPListener] = []
        for (listener, addresses) in [(Listener.authentication, settings.authListen), (.accounting, settings.acctListen)] {
            for address in addresses {
                guard let hostPort = HostPort(address) else { continue }
                do {
                    listeners.append(try await UDPListener.bind(host: hostPort.host, port: hostPort.port, listener: listener,
                                                                engine: engine, threads: threads,
                                                                receiveBufferBytes: settings.receiveBufferBytes,
                                                                maxInFlight: settings.maxInFlight, spreading: settings.spreading))
                } catch {
                    throw ConfigurationError("listen.\(listener == .authentication ? "auth" : "acct"): cannot bind \(address): \(error)")
                }
            }
        }
        let sender: DynamicAuthorizationClient
        do {
            sender = try await DynamicAuthorizationClient.start(group: group, timing: settings.disconnectTiming, metrics: engine.metrics)
        } catch {
            throw ConfigurationError("cannot open the Disconnect/CoA socket: \(error)")
        }
        let control = CallControl(engine: engine, settings: prepaid, sender: sender, clock: clock)
        let calls = LiveCallsReport(engine: engine, store: store, plans: plans)
        guard let metricsAddress = HostPort(settings.metricsListen) else { return }
        let admin: any Channel
        do {
            admin = try await AdminHTTPServer.bind(host: metricsAddress.host, port: metricsAddress.port, group: group) { request in
                await Self.respond(to: request, registry: registry, calls: calls, control: control)
            }
        } catch {
            throw ConfigurationError("listen.metrics: cannot bind \(settings.metricsListen): \(error)")
        }
        announce(listeners, admin: admin)

        let service = RadiusService(engine: engine, control: control, sender: sender, listeners: listeners, admin: admin,
                                    store: store, sweepInterval: settings.sweepIntervalSeconds)
        let serviceGroup = ServiceGroup(configuration: .init(services: [service], gracefulShutdownSignals: [.sigterm, .sigint],
                                                             logger: logger))
        try await serviceGroup.run()
        try await group.shutdownGracefully()
    }

    static func respond(to request: AdminHTTPServer.Request, registry: PrometheusCollectorRegistry, calls: LiveCallsReport,
                        control: CallControl) async -> AdminHTTPServer.Response {
        func text(_ status: HTTPResponseStatus, _ body: String) -> AdminHTTPServer.Response {
            AdminHTTPServer.Response(status: status, contentType: "text/plain", body: Array((body + "\n").utf8))
        }
        switch (request.method, request.path) {
        case (.GET, "/metrics"):
            return AdminHTTPServer.Response(status: .ok, contentType: "text/plain; version=0.0.4", body: registry.emitToBuffer())
        case (.GET, "/calls"):
            return AdminHTTPServer.Response(status: .ok, contentType: "application/json", body: Array(await calls.json().utf8))
        case (.POST, "/calls/end"):
            guard let key = request.query["key"], !key.isEmpty else { return text(.badRequest, "name the call: /calls/end?key=KEY") }
            let found: ControlOutcome?
            do { found = try await control.end(key: key) } catch {
                return text(.serviceUnavailable, "cannot look up call \(key) in the ledger: \(error)")
            }
            guard let outcome = found else { return text(.notFound, "no live call \(key)") }
            let body = "{\"key\":\(JSONText.quoted(key)),\"outcome\":\(JSONText.quoted(outcome.label))}\n"
            return AdminHTTPServer.Response(status: outcome.callEnded ? .ok : .badGateway, contentType: "application/json",
                                            body: Array(body.utf8))
        case (_, "/metrics"), (_, "/calls"), (_, "/calls/end"):
            return text(.methodNotAllowed, "GET /metrics, GET /calls, POST /calls/end?key=KEY")
        default:
            return text(.notFound, "try GET /metrics, GET /calls or POST /calls/end?key=KEY")
        }
    }

    /// With the embedded ledger, one event loop per core less one: its writer thread makes every
    /// decision durable and sends the replies, and wants a core of its own at the peak. Two loops
    /// on two cores met on the same locks and tables, and answered 10-15% fewer PAP requests at
    /// 256 and 1024 in flight than one loop (issue 4's notes). A shared database's round trips
    /// suspend, and its loops only hand datagrams on: one per core.
    static func defaultEventLoops(_ store: any LedgerStore) -> Int {
        store.decidesInMemory ? max(1, System.coreCount - 1) : System.coreCount
    }

    private func announce(_ listeners: [UDPListener], admin: any Channel) {
        let describe = UDPListener.endpoint
        let auth = listeners.filter { $0.listener == .authentication }.map { describe($0.localAddress) }
        let acct = listeners.filter { $0.listener == .accounting }.map { describe($0.localAddress) }
        var lines = [
            "ratel: RADIUS authentication on \(auth.joined(separator: ", ")); accounting on \(acct.joined(separator: ", "))",
            "ratel: metrics on http://\(admin.localAddress.map(describe) ?? "?")/metrics, live calls on /calls",
        ]
        lines.append(Allocator.jemallocVersion.map { "ratel: memory allocator: jemalloc \($0)" }
            ?? "ratel: memory allocator: not jemalloc; glibc's stalls the server for 50-150 ms after bursts of calls")
        if settings.clients.isEmpty {
            lines.append("""
                ratel: no NAS clients are configured, so every request is dropped. Add one to a configuration file \
                and start with --config FILE:
                  [[client]]
                  name = "gw1"
                  address = "192.0.2.10"      # or a CIDR block, or a list
                  secret = "a long shared secret"
                  profile = "generic"         # or "cisco", "kamailio"
                or try `ratel serve --demo`.
                """)
        } else {
            lines.append("ratel: clients: " + settings.clients.map { "\($0.name) (\($0.profile.name))" }.joined(separator: ", "))
        }
        FileHandle.standardOutput.write(Data((lines.joined(separator: "\n") + "\n").utf8))
    }
}

/// The server's lifetime under swift-service-lifecycle: sweep expired reservations and review
/// live calls' accounts until asked to stop, then stop taking requests, finish those in flight
/// and close the ledger (its journal flushes everything acknowledged).
struct RadiusService: Service {
    let engine: RadiusEngine
    let control: CallControl
    let sender: DynamicAuthorizationClient
    let listeners: [UDPListener]
    let admin: any Channel
    let store: any LedgerStore
    let sweepInterval: Int64

    func run() async throws {
        // Reviews send Disconnect/CoA requests that may wait 30 s for an answer; sweeps go on meanwhile.
        await withDiscardingTaskGroup { group in
            group.addTask { await every(sweepInterval) { await engine.sweep() } }
            group.addTask { await every(sweepInterval) { await control.review() } }
        }
        for listener in listeners { await listener.shutdown() }
        try? await admin.close()
        await sender.close()
        await store.close()
        FileHandle.standardOutput.write(Data("ratel: stopped; the ledger is flushed\n".utf8))
    }

    private func every(_ seconds: Int64, _ work: () async -> Void) async {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(seconds)) }
            await work()
        }
    }
}
