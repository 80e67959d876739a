import Foundation
import Logging
import RadiusProtocol
import RadiusServer
import RatingEngine
import TOMLKit

/// `ratel serve`'s configuration file (TOML, docs/configuration.md). Every key has a default that
/// runs; an unknown key or a bad value stops start-up with a message naming the key.
struct ServeConfiguration {
    var authListen = ["0.0.0.0:1812", "[::]:1812"]
    var acctListen = ["0.0.0.0:1813", "[::]:1813"]
    var metricsListen = "127.0.0.1:9812"
    var receiveBufferBytes = 4 << 20
    var maxInFlight = 8192
    /// Sockets per listen address, each read by a thread of its own (and as many event loops for the rest); nil: one per core.
    var eventLoops: Int?
    var spreading = UDPListener.Spreading.source
    var duplicateLifetimeSeconds = 10
    var maxAttributes = RadiusPacket.defaultAttributeLimit
    var dataDirectory = "./ratel-data"
    var databaseURL: String?
    var keyFile: String?
    var plans: [String: String] = ["default": "ratesheets/retail/plan.toml"]
    var reservationGraceSeconds: Int64 = 300
    var maxGrantSeconds: Int64 = 0
    var allowOverdraft = false
    var sweepIntervalSeconds: Int64 = 5
    var disconnectTiming = DynamicAuthorizationClient.Timing()
    var throttle = FailureThrottle.Settings()
    var logLevel = Logger.Level.info
    var profiles = NASProfile.builtIn
    var clients: [NASClient] = []

    static let topKeys: Set<String> = ["listen", "store", "plans", "limits", "disconnect", "logging", "profile", "client"]

    static func load(path: String) throws(ConfigurationError) -> ServeConfiguration {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationError("\(path): cannot read the configuration file")
        }
        return try parse(String(decoding: data, as: UTF8.self), source: path)
    }

    static func parse(_ text: String, source: String) throws(ConfigurationError) -> ServeConfiguration {
        func fail(_ key: String?, _ message: String) -> ConfigurationError {
            ConfigurationError("\(source): \(key.map { "\($0): " } ?? "")\(message)")
        }
        let table = try TOMLFields<ConfigurationError>.document(text, fail: fail)
        var config = ServeConfiguration()
        try TOMLFields(table: table, path: "", allowed: topKeys, fail: fail).rejectUnknownKeys()
        func section(_ name: String, _ keys: Set<String>) throws(ConfigurationError) -> TOMLFields<ConfigurationError>? {
            guard let value = table[name] else { return nil }
            guard let inner = value.table else { throw fail(name, "must be a table ([\(name)])") }
            let fields = TOMLFields(table: inner, path: name + ".", allowed: keys, fail: fail)
            try fields.rejectUnknownKeys()
            return fields
        }
        if let listen = try section("listen", ["auth", "acct", "metrics", "receive_buffer", "max_in_flight",
                                               "duplicate_lifetime", "max_attributes", "threads", "spread"]) {
            config.authListen = try listen.optionalStrings("auth") ?? config.authListen
            config.acctListen = try listen.optionalStrings("acct") ?? config.acctListen
            config.metricsListen = try listen.optionalString("metrics") ?? config.metricsListen
            config.receiveBufferBytes = Int(try listen.optionalInt("receive_buffer", in: 65_536...(256 << 20)) ?? Int64(config.receiveBufferBytes))
            config.maxInFlight = Int(try listen.optionalInt("max_in_flight", in: 1...1_000_000) ?? Int64(config.maxInFlight))
            config.eventLoops = try listen.optionalInt("threads", in: 0...256).flatMap { $0 == 0 ? nil : Int($0) }
            if let spread = try listen.optionalString("spread") {
                guard let parsed = UDPListener.Spreading(rawValue: spread) else {
                    throw fail("listen.spread", "must be one of \(UDPListener.Spreading.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                config.spreading = parsed
            }
            config.duplicateLifetimeSeconds = Int(try listen.optionalInt("duplicate_lifetime", in: 1...60) ?? 10)
            config.maxAttributes = Int(try listen.optionalInt("max_attributes", in: 10...1000) ?? Int64(config.maxAttributes))
        }
        if let store = try section("store", ["data", "database", "key_file"]) {
            config.dataDirectory = try store.optionalString("data") ?? config.dataDirectory
            config.databaseURL = try store.optionalString("database").flatMap { $0.isEmpty ? nil : $0 }
            config.keyFile = try store.optionalString("key_file").flatMap { $0.isEmpty ? nil : $0 }
        }
        if let plans = table["plans"] {
            guard let inner = plans.table else { throw fail("plans", "must be a table of name = \"path/plan.toml\"") }
            config.plans = [:]
            for key in inner.keys {
                guard let path = inner[key]?.string else { throw fail("plans." + key, "must be the path of a plan file") }
                config.plans[key] = path
            }
        }
        if let limits = try section("limits", ["reservation_grace", "max_grant", "allow_overdraft", "max_failures",
                                               "failure_window", "lockout", "sweep_interval"]) {
            config.reservationGraceSeconds = try limits.optionalInt("reservation_grace", in: 0...86_400) ?? config.reservationGraceSeconds
            config.maxGrantSeconds = try limits.optionalInt("max_grant", in: 0...PlanLoader.maxDurationLimitSeconds) ?? 0
            config.allowOverdraft = try limits.optionalBool("allow_overdraft") ?? false
            config.throttle.maxFailures = Int(try limits.optionalInt("max_failures", in: 0...1000) ?? Int64(config.throttle.maxFailures))
            config.throttle.windowSeconds = try limits.optionalInt("failure_window", in: 1...86_400) ?? config.throttle.windowSeconds
            config.throttle.lockoutSeconds = try limits.optionalInt("lockout", in: 1...604_800) ?? config.throttle.lockoutSeconds
            config.sweepIntervalSeconds = try limits.optionalInt("sweep_interval", in: 1...3_600) ?? config.sweepIntervalSeconds
        }
        if let disconnect = try section("disconnect", ["first_retry_ms", "max_retry_ms", "attempts", "give_up_ms"]) {
            var timing = config.disconnectTiming
            timing.initialMilliseconds = try disconnect.optionalInt("first_retry_ms", in: 100...60_000) ?? timing.initialMilliseconds
            timing.maximumMilliseconds = try disconnect.optionalInt("max_retry_ms", in: 100...300_000) ?? timing.maximumMilliseconds
            timing.attempts = Int(try disconnect.optionalInt("attempts", in: 1...20) ?? Int64(timing.attempts))
            timing.totalMilliseconds = try disconnect.optionalInt("give_up_ms", in: 100...600_000) ?? timing.totalMilliseconds
            guard timing.maximumMilliseconds >= timing.initialMilliseconds else {
                throw fail("disconnect.max_retry_ms", "must not be below disconnect.first_retry_ms")
            }
            config.disconnectTiming = timing
        }
        if let logging = try section("logging", ["level"]), let level = try logging.optionalString("level") {
            guard let parsed = Logger.Level(rawValue: level) else {
                throw fail("logging.level", "must be one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            config.logLevel = parsed
        }
        if let profiles = table["profile"] {
            guard let inner = profiles.table else { throw fail("profile", "must be tables ([profile.NAME])") }
            for name in inner.keys.sorted() {
                guard let body = inner[name]?.table else { throw fail("profile." + name, "must be a table") }
                config.profiles[name] = try ProfileReader.read(body, name: name, known: config.profiles, fail: fail)
            }
        }
        if let clients = table["client"] {
            guard let array = clients.array else { throw fail("client", "must be an array of tables ([[client]])") }
            for (index, element) in array.enumerated() {
                guard let body = element.table else { throw fail("client[\(index)]", "must be a table") }
                config.clients.append(try ClientReader.read(body, index: index, profiles: config.profiles, fail: fail))
            }
            var names: Set<String> = []
            for client in config.clients where !names.insert(client.name).inserted {
                throw fail("client", "two clients are named '\(client.name)'")
            }
            if let repeated = repeatedBlock(in: config.clients) {
                throw fail("client[\(repeated.index)].address", repeated.owner == config.clients[repeated.index].name
                           ? "lists \(repeated.network) twice" : "\(repeated.network) is already the address of client '\(repeated.owner)'")
            }
        }
        return config
    }
}

extension ServeConfiguration {
    /// The first client to list a block that a client before it (or itself) already listed, and
    /// that owner's name: such a block would quietly belong to whichever came first.
    static func repeatedBlock(in clients: [NASClient]) -> (index: Int, network: IPNetwork, owner: String)? {
        var owners: [IPNetwork: String] = [:]
        for (index, client) in clients.enumerated() {
            for network in client.networks {
                if let owner = owners.updateValue(client.name, forKey: network) { return (index, network, owner) }
            }
        }
        return nil
    }
}

/// `host:port`, with IPv6 hosts in brackets.
struct HostPort: Equatable {
    let host: String
    let port: Int

    init?(_ text: String) {
        let hostPart: Substring
        let portPart: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else { return nil }
            hostPart = text[text.index(after: text.startIndex)..<close]
            portPart = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":") else { return nil }
            hostPart = text[..<colon]
            portPart = text[text.index(after: colon)...]
        }
        guard !hostPart.isEmpty, let port = Int(portPart), (0...65_535).contains(port) else { return nil }
        host = String(hostPart)
        self.port = port
    }
}
