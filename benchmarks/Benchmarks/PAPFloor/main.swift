import Foundation
import RadiusBenchSupport
import RadiusProtocol

// The floor under Ratel's PAP figure: what answering PAP costs on this machine in Swift with
// Ratel's own codec and nothing else (no client table, duplicate cache, rating, ledger or
// metrics). radius-compare.sh runs it next to FreeRADIUS `files`; the gap between this and Ratel
// is what everything Ratel adds to an answer costs.
//
//   PAPFloor sockets|sockets-journal|nio --port P --secret S --users FILE [--threads N] [--journal PATH]
//
// `sockets`: a thread per core, each with its own SO_REUSEPORT socket, recvmmsg and sendmmsg of
// up to 32 datagrams. `sockets-journal`: the same, each thread making its answers durable first
// (a record each in PATH.<thread>, fdatasynced per read). `nio`: an event loop per core with the
// socket setup `ratel serve` uses.

enum Transport: String { case sockets, nio, journal = "sockets-journal" }

struct Floor: Sendable {
    let secret: [UInt8]
    let passwords: [String: [UInt8]]
    static let policy = RequestPolicy(requireMessageAuthenticator: true, limitProxyState: true)

    /// Access-Accept with a Session-Timeout for a known PIN and its password, Access-Reject for
    /// any other; nothing for a datagram that is not a genuine Access-Request.
    func answer(_ datagram: some Collection<UInt8>) -> [UInt8]? {
        guard let packet = try? RadiusPacket(decoding: datagram), packet.code == .accessRequest,
              (try? packet.verifyRequest(secret: secret, policy: Self.policy)) != nil,
              let name = packet.first(AttributeType.userName), let hidden = packet.first(AttributeType.userPassword),
              let password = try? UserPassword.reveal(hidden, secret: secret, authenticator: packet.authenticator)
        else { return nil }
        let accepted = passwords[String(decoding: name, as: UTF8.self)].map { constantTimeEqual($0, password) } ?? false
        return try? PacketEncoder.response(accepted ? .accessAccept : .accessReject, to: packet,
                                           attributes: accepted ? [OutgoingAttribute(AttributeType.sessionTimeout, integer: 3600)] : [],
                                           secret: secret, withMessageAuthenticator: true)
    }
}

do {
    var words = CommandLine.arguments.dropFirst()
    guard let name = words.popFirst(), let transport = Transport(rawValue: name) else {
        throw LoadError("usage: PAPFloor sockets|sockets-journal|nio --port P --secret S --users FILE [--threads N] [--journal PATH]")
    }
    let values = try flagValues(words)
    guard let usersPath = values["users"], let secret = values["secret"], let port = values["port"].flatMap(UInt16.init) else {
        throw LoadError("--port, --secret and --users are required")
    }
    let threads = try values["threads"].map { text in
        guard let count = Int(text), (1...64).contains(count) else { throw LoadError("--threads: 1 to 64, got \(text)") }
        return count
    } ?? ProcessInfo.processInfo.activeProcessorCount
    let users = try Users(csv: usersPath)
    var passwords: [String: [UInt8]] = [:]
    passwords.reserveCapacity(users.count)
    for (pin, password) in zip(users.pins, users.passwords) { passwords[String(decoding: pin, as: UTF8.self)] = password }
    let floor = Floor(secret: Array(secret.utf8), passwords: passwords)
    switch transport {
    case .sockets: try SocketFloor.start(floor, port: port, threads: threads)
    case .nio: try NIOFloor.start(floor, port: port, threads: threads)
    case .journal:
        guard let path = values["journal"] else { throw LoadError("sockets-journal needs --journal PATH") }
        try SocketFloor.start(floor, port: port, threads: threads, journal: path)
    }
    FileHandle.standardOutput.write(Data("papfloor: listening on 127.0.0.1:\(port) (\(transport.rawValue), \(threads) threads, \(users.count) users)\n".utf8))
    while true { sleep(3600) }
} catch {
    FileHandle.standardError.write(Data("PAPFloor: \(error)\n".utf8))
    exit(1)
}
