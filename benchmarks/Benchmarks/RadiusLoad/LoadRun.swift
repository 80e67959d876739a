import Foundation
import Glibc
import RadiusBenchSupport
import RadiusProtocol

/// One load phase against one RADIUS server: Access-Requests (PAP), or Accounting Start+Stop
/// pairs, from non-blocking UDP sockets, either closed-loop (a fixed number in flight, to find
/// the peak) or open-loop at a fixed rate (to measure latency below the peak). Every request is
/// new (fresh Identifier slot and Request Authenticator), so no server can answer from its
/// duplicate cache.
final class LoadRun {
    enum Kind: String { case auth, acct }

    struct Options {
        var kind: Kind
        var port: UInt16
        var secret: [UInt8]
        var users: Users
        var firstUser: Int
        var count: Int
        var concurrency: Int
        var rate: Int?
        var seconds: Double
        var sessionPrefix: String
        var calledNumber = "359888123456"
        var sessionSeconds: UInt32 = 60
    }

    struct Result {
        var sent = 0, accepted = 0, rejected = 0, other = 0, lost = 0, completed = 0
        var elapsed = 0.0
        var latenciesMicros: [UInt32] = []
        /// From the send to the reply's arrival at the generator's socket (the kernel's receive
        /// timestamp), so without the time the reply then waited for the generator to read it:
        /// on two cores shared with the server, the generator is itself descheduled at times,
        /// and a NAS on a machine of its own would not add that wait to the server's latency.
        var arrivalLatenciesMicros: [UInt32] = []
        /// With `RL_TRACE=file`: each reply's send time and latency, written as "ms-since-start µs" lines,
        /// to see when in a run the slow replies were (a p99 alone does not say).
        var trace: [(UInt64, UInt32)] = []
    }

    private struct Slot {
        var user = -1
        var stage: UInt8 = 0
        var sentAt: UInt64 = 0
        /// The same instant on the clock the kernel stamps arrivals with (CLOCK_REALTIME).
        var sentAtRealtime: UInt64 = 0
    }

    private let options: Options
    private let tracePath = ProcessInfo.processInfo.environment["RL_TRACE"]
    private var sockets: [Int32] = []
    private var slots: [[Slot]] = []
    private var freeIdentifiers: [IdentifierQueue] = []
    private var random = SplitMix(seed: UInt64(truncatingIfNeeded: Int(bitPattern: UInt(monotonicNanos()))))
    private var result = Result()
    private var inFlight = 0

    init(_ options: Options) throws {
        self.options = options
        // 256 Identifiers per socket: enough sockets for the concurrency, with room to spare.
        let socketCount = max(1, (options.concurrency + 127) / 128)
        for _ in 0..<socketCount {
            let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
            guard fd >= 0 else { throw LoadError("socket: errno \(errno)") }
            var buffer: Int32 = 4 << 20
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buffer, socklen_t(MemoryLayout<Int32>.size))
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = options.port.bigEndian
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard connected == 0 else { throw LoadError("connect: errno \(errno)") }
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            var stamp: Int32 = 1
            guard setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &stamp, socklen_t(MemoryLayout<Int32>.size)) == 0 else {
                throw LoadError("setsockopt SO_TIMESTAMPNS: errno \(errno)")
            }
            sockets.append(fd)
            slots.append(Array(repeating: Slot(), count: 256))
            freeIdentifiers.append(IdentifierQueue())
        }
        result.latenciesMicros.reserveCapacity(1 << 22)
        result.arrivalLatenciesMicros.reserveCapacity(1 << 22)
    }

    deinit { sockets.forEach { close($0) } }

    func run() throws -> Result {
        let start = monotonicNanos()
        let deadline = start + UInt64(options.seconds * 1e9)
        var nextUser = options.firstUser
        let lastUser = options.firstUser + options.count
        var pollFDs = sockets.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
        var lastSweep = start
        while true {
            let now = monotonicNanos()
            let finished = now >= deadline || nextUser >= lastUser
            if finished && inFlight == 0 { break }
            if now >= deadline + 2_000_000_000 { break }
            if !finished {
                let allowed = options.rate.map { Int(Double($0) * Double(now - start) / 1e9) + 1 } ?? Int.max
                while inFlight < options.concurrency, result.sent < allowed, nextUser < lastUser, try send(user: nextUser, stage: 0) {
                    nextUser += 1
                }
            }
            if poll(&pollFDs, nfds_t(pollFDs.count), 1) > 0 {
                for index in pollFDs.indices where pollFDs[index].revents & Int16(POLLIN) != 0 { try receive(on: index) }
            }
            if now - lastSweep > 200_000_000 {
                sweepLost(now: now)
                lastSweep = now
            }
        }
        result.elapsed = Double(min(monotonicNanos(), deadline) - start) / 1e9
        if let path = tracePath {
            let text = result.trace.map { "\(Double($0.0 - start) / 1e6) \($0.1)" }.joined(separator: "\n")
            try? text.write(toFile: path, atomically: true, encoding: .utf8)
            try? "\(start)".write(toFile: path + ".start", atomically: true, encoding: .utf8)
        }
        return result
    }

    /// Stage 0: the Access-Request, or the Accounting Start; stage 1: the Accounting Stop.
    private func send(user: Int, stage: UInt8) throws -> Bool {
        // A socket keeps some Identifiers free, so that none is reused right after its reply
        // (at 256 in flight one socket would otherwise have all its Identifiers in use); past
        // that the next socket is used.
        guard let socketIndex = freeIdentifiers.indices.first(where: { freeIdentifiers[$0].count > IdentifierQueue.slack })
                ?? freeIdentifiers.indices.first(where: { !freeIdentifiers[$0].isEmpty }),
              let identifier = freeIdentifiers[socketIndex].take() else { return false }
        try transmit(user: user, stage: stage, socketIndex: socketIndex, identifier: identifier)
        inFlight += 1
        return true
    }

    private func transmit(user: Int, stage: UInt8, socketIndex: Int, identifier: UInt8) throws {
        let packet = try build(user: user, stage: stage, identifier: identifier)
        slots[socketIndex][Int(identifier)] = Slot(user: user, stage: stage, sentAt: monotonicNanos(), sentAtRealtime: realtimeNanos())
        let written = packet.withUnsafeBytes { Glibc.send(sockets[socketIndex], $0.baseAddress, $0.count, 0) }
        // ECONNREFUSED: nothing listens any more (the server died). Its requests go unanswered and
        // are counted lost, so the phase still reports and the script can tell what happened.
        if written < 0 && errno != EAGAIN && errno != ECONNREFUSED { throw LoadError("send: errno \(errno)") }
        result.sent += 1
    }

    private func build(user: Int, stage: UInt8, identifier: UInt8) throws -> [UInt8] {
        let pin = options.users.pins[user % options.users.count]
        let session = Array("\(options.sessionPrefix)-\(user)".utf8)
        let called = Array(options.calledNumber.utf8)
        let nas = OutgoingAttribute(AttributeType.nasIPAddress, [127, 0, 0, 1])
        switch options.kind {
        case .auth:
            var authenticator = [UInt8](repeating: 0, count: 16)
            random.fill(&authenticator)
            return try PacketEncoder.accessRequest(
                identifier: identifier, authenticator: authenticator,
                attributes: [OutgoingAttribute(AttributeType.userName, pin), OutgoingAttribute(AttributeType.calledStationId, called),
                             OutgoingAttribute(AttributeType.acctSessionId, session), nas],
                password: options.users.passwords[user % options.users.count], secret: options.secret)
        case .acct:
            var attributes = [OutgoingAttribute(AttributeType.acctStatusType, integer: stage == 0 ? 1 : 2),
                              OutgoingAttribute(AttributeType.acctSessionId, session), OutgoingAttribute(AttributeType.userName, pin),
                              OutgoingAttribute(AttributeType.calledStationId, called), nas,
                              OutgoingAttribute(AttributeType.eventTimestamp, integer: UInt32(truncatingIfNeeded: time(nil)))]
            if stage == 1 {
                attributes.append(OutgoingAttribute(AttributeType.acctSessionTime, integer: options.sessionSeconds))
                attributes.append(OutgoingAttribute(AttributeType.acctTerminateCause, integer: 1))
            }
            return try PacketEncoder.accountingStyleRequest(.accountingRequest, identifier: identifier, attributes: attributes,
                                                            secret: options.secret, withMessageAuthenticator: false)
        }
    }

    private func receive(on socketIndex: Int) throws {
        var buffer = [UInt8](repeating: 0, count: 4096)
        var control = [UInt64](repeating: 0, count: 8)
        while true {
            let (count, arrivedAt) = Self.receive(sockets[socketIndex], into: &buffer, control: &control)
            if count < 0 {
                if errno == EAGAIN || errno == EWOULDBLOCK { return }
                if errno == ECONNREFUSED { continue }
                throw LoadError("recv: errno \(errno)")
            }
            guard count >= 20 else { continue }
            let identifier = buffer[1]
            let slot = slots[socketIndex][Int(identifier)]
            guard slot.user >= 0 else { continue }
            let latency = UInt32(min(UInt64(UInt32.max), (monotonicNanos() - slot.sentAt) / 1000))
            result.latenciesMicros.append(latency)
            // The realtime clock may be stepped under a run; a reply cannot arrive before it was asked for.
            if let arrivedAt {
                result.arrivalLatenciesMicros.append(UInt32(min(UInt64(UInt32.max), arrivedAt > slot.sentAtRealtime
                    ? (arrivedAt - slot.sentAtRealtime) / 1000 : 0)))
            }
            if tracePath != nil { result.trace.append((slot.sentAt, latency)) }
            switch buffer[0] {
            case RadiusCode.accessAccept.rawValue, RadiusCode.accountingResponse.rawValue: result.accepted += 1
            case RadiusCode.accessReject.rawValue: result.rejected += 1
            default: result.other += 1
            }
            release(identifier, on: socketIndex)
            // The Stop goes out under the Identifier free longest, like any other new request.
            if options.kind == .acct && slot.stage == 0 && buffer[0] == RadiusCode.accountingResponse.rawValue,
               let next = freeIdentifiers[socketIndex].take() {
                try transmit(user: slot.user, stage: 1, socketIndex: socketIndex, identifier: next)
                continue
            }
            result.completed += 1
            inFlight -= 1
        }
    }

    /// The request under `identifier` is done with (answered or lost): the Identifier waits at
    /// the back of the socket's queue.
    private func release(_ identifier: UInt8, on socketIndex: Int) {
        slots[socketIndex][Int(identifier)].user = -1
        freeIdentifiers[socketIndex].put(identifier)
    }

    /// Requests unanswered after two seconds are counted lost and their slots reused.
    private func sweepLost(now: UInt64) {
        for socketIndex in slots.indices {
            for identifier in 0..<256 where slots[socketIndex][identifier].user >= 0
                && now > slots[socketIndex][identifier].sentAt + 2_000_000_000 {
                release(UInt8(identifier), on: socketIndex)
                result.lost += 1
                inFlight -= 1
            }
        }
    }
}

/// A socket's free Identifiers, reused in the order they were freed: an Identifier reused the
/// moment its reply is in meets a server still finishing the old request (FreeRADIUS 3.2 logs
/// "conflicting packet ... unfinished request in module", gives up on the old request, and once
/// crashed on that path), which a NAS with many calls in flight rarely does.
struct IdentifierQueue {
    static let slack = 64
    private var ring = (0...255).map(UInt8.init)
    private var head = 0
    private(set) var count = 256

    var isEmpty: Bool { count == 0 }

    mutating func take() -> UInt8? {
        guard count > 0 else { return nil }
        defer { head = (head + 1) & 255; count -= 1 }
        return ring[head]
    }

    mutating func put(_ identifier: UInt8) {
        ring[(head + count) & 255] = identifier
        count += 1
    }
}

extension LoadRun {
    /// One datagram into `buffer`: its length (negative with `errno` set, as `recv`) and when it
    /// arrived (realtime nanoseconds), if the kernel said. `control` has room for the one control
    /// message asked for (SO_TIMESTAMPNS): a cmsghdr and a timespec.
    static func receive(_ socket: Int32, into buffer: inout [UInt8], control: inout [UInt64]) -> (Int, UInt64?) {
        buffer.withUnsafeMutableBytes { bytes in
            control.withUnsafeMutableBytes { controlBytes in
                var vector = iovec(iov_base: bytes.baseAddress, iov_len: bytes.count)
                return withUnsafeMutablePointer(to: &vector) { vectorPointer in
                    var message = msghdr()
                    message.msg_iov = vectorPointer
                    message.msg_iovlen = 1
                    message.msg_control = controlBytes.baseAddress
                    message.msg_controllen = controlBytes.count
                    let count = recvmsg(socket, &message, 0)
                    return (count, count >= 0 ? arrivalStamp(controlBytes, length: message.msg_controllen) : nil)
                }
            }
        }
    }

    /// The SCM_TIMESTAMPNS timespec among the control messages `recvmsg` returned, in nanoseconds.
    static func arrivalStamp(_ control: UnsafeMutableRawBufferPointer, length: Int) -> UInt64? {
        let headerSize = MemoryLayout<cmsghdr>.stride
        var offset = 0
        while offset + headerSize <= min(length, control.count) {
            let header = control.loadUnaligned(fromByteOffset: offset, as: cmsghdr.self)
            guard header.cmsg_len >= headerSize else { return nil }
            if header.cmsg_level == SOL_SOCKET && header.cmsg_type == SO_TIMESTAMPNS,
               offset + headerSize + MemoryLayout<timespec>.size <= control.count {
                let stamp = control.loadUnaligned(fromByteOffset: offset + headerSize, as: timespec.self)
                return UInt64(stamp.tv_sec) * 1_000_000_000 + UInt64(stamp.tv_nsec)
            }
            offset += (header.cmsg_len + 7) & ~7
        }
        return nil
    }
}

func realtimeNanos() -> UInt64 {
    var spec = timespec()
    clock_gettime(CLOCK_REALTIME, &spec)
    return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
}

func monotonicNanos() -> UInt64 {
    var spec = timespec()
    clock_gettime(CLOCK_MONOTONIC, &spec)
    return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
}

/// Request Authenticators only need to be unique here, not secret: a fast generator keeps the
/// load generator's share of the two cores small.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func fill(_ bytes: inout [UInt8]) {
        for chunk in stride(from: 0, to: bytes.count, by: 8) {
            var word = next()
            for index in chunk..<min(chunk + 8, bytes.count) {
                bytes[index] = UInt8(truncatingIfNeeded: word)
                word >>= 8
            }
        }
    }
}
