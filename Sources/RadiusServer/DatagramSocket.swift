import CDatagram
import Glibc
import NIOCore

/// A UDP socket, read by a `DatagramReceiver`; replies are sent from the thread that has them
/// (the ledger's writer, once a group is durable) in one `sendmmsg`. Sending on a UDP socket
/// from several threads is safe.
struct DatagramSocket: Sendable {
    let descriptor: Int32
    /// Same-sized replies to one NAS leave as one segmented message (UDP GSO): a burst of
    /// Accounting-Responses costs the kernel one route and one queueing instead of one each.
    let segmentsReplies: Bool

    init(descriptor: Int32) {
        self.descriptor = descriptor
        segmentsReplies = ratel_can_segment(descriptor) != 0
    }

    /// Creates and binds the socket; the listener closes it.
    /// With `sharingPort`, several sockets bind the same port and the kernel spreads datagrams
    /// over them by source address and port (`SO_REUSEPORT`).
    static func bind(_ address: SocketAddress, receiveBufferBytes: Int, sendBufferBytes: Int,
                     sharingPort: Bool = false) throws -> DatagramSocket {
        let family: Int32 = switch address {
        case .v4: AF_INET
        case .v6: AF_INET6
        case .unixDomainSocket: throw ConfigurationError("a RADIUS listener needs an IP address, not \(address)")
        }
        let descriptor = socket(family, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw IOError(errnoCode: errno, reason: "socket") }
        do {
            // No SO_REUSEADDR: on UDP it lets a second process bind the very same port.
            if sharingPort { try option(descriptor, SOL_SOCKET, SO_REUSEPORT, 1) }
            // Leaves IPv4 to its own socket, so `0.0.0.0` and `::` can both be bound to one port.
            if family == AF_INET6 { try option(descriptor, Int32(IPPROTO_IPV6), IPV6_V6ONLY, 1) }
            try option(descriptor, SOL_SOCKET, SO_RCVBUF, Int32(clamping: receiveBufferBytes))
            try option(descriptor, SOL_SOCKET, SO_SNDBUF, Int32(clamping: sendBufferBytes))
            let bound = address.withSockAddr { pointer, length in Glibc.bind(descriptor, pointer, socklen_t(length)) }
            guard bound == 0 else { throw IOError(errnoCode: errno, reason: "bind") }
        } catch {
            close(descriptor)
            throw error
        }
        return DatagramSocket(descriptor: descriptor)
    }

    /// Fails, as binding would, if anything already holds the address: sockets that share a
    /// port would otherwise quietly share it with another Ratel of the same user. A plain bind
    /// conflicts with every socket on the port, whatever its options.
    static func ensureFree(_ address: SocketAddress) throws {
        try close(bind(address, receiveBufferBytes: 4096, sendBufferBytes: 4096).descriptor)
    }

    /// Has the kernel deal the port's datagrams out to its `sockets` sharing sockets by RADIUS
    /// Identifier instead of by source (`UDPListener.Spreading.identifier`).
    func spreadByIdentifier(over sockets: Int) throws {
        let refused = ratel_spread_by_identifier(descriptor, UInt32(clamping: sockets))
        guard refused == 0 else { throw IOError(errnoCode: refused, reason: "SO_ATTACH_REUSEPORT_CBPF") }
    }

    /// The port the kernel chose, for a socket bound to port 0.
    var boundPort: Int? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let found = withUnsafeMutablePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) == 0 }
        }
        guard found else { return nil }
        // sin_port and sin6_port share their place, in network byte order.
        return withUnsafeBytes(of: storage) { Int($0[2]) << 8 | Int($0[3]) }
    }

    /// Makes reads wait for a datagram, at most `timeoutMilliseconds` at a time (sends still
    /// never wait: they ask not to).
    func waitForReads(timeoutMilliseconds: Int) throws {
        let flags = fcntl(descriptor, F_GETFL)
        guard flags >= 0, fcntl(descriptor, F_SETFL, flags & ~O_NONBLOCK) == 0 else { throw IOError(errnoCode: errno, reason: "fcntl") }
        var timeout = timeval(tv_sec: timeoutMilliseconds / 1000, tv_usec: (timeoutMilliseconds % 1000) * 1000)
        guard setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size)) == 0 else {
            throw IOError(errnoCode: errno, reason: "setsockopt")
        }
    }

    /// Waits up to `milliseconds` for room in the send buffer; says whether there is.
    func waitWritable(milliseconds: Int32) -> Bool {
        var watched = pollfd(fd: descriptor, events: Int16(POLLOUT), revents: 0)
        return poll(&watched, 1, milliseconds) == 1 && watched.revents & Int16(POLLOUT) != 0
    }

    private static func option(_ descriptor: Int32, _ level: Int32, _ name: Int32, _ value: Int32) throws {
        var value = value
        guard setsockopt(descriptor, level, name, &value, socklen_t(MemoryLayout<Int32>.size)) == 0 else {
            throw IOError(errnoCode: errno, reason: "setsockopt")
        }
    }

    /// A reply and where it goes.
    struct Datagram: Sendable {
        let address: SocketAddress
        let bytes: [UInt8]
    }

    /// Sends what it can now; returns the datagrams it could not send because the socket's send
    /// buffer is full, and reports each one refused.
    func send(_ datagrams: [Datagram], refused: (Int32) -> Void) -> ArraySlice<Datagram> {
        var remaining = datagrams[...]
        while !remaining.isEmpty {
            let (sent, error) = Self.sendmmsg(descriptor, remaining, segment: segmentsReplies)
            remaining = remaining.dropFirst(sent)
            if error == EAGAIN || error == EWOULDBLOCK { return remaining }
            if error != 0 {
                // One datagram the kernel refuses (an address it cannot route) must not hold up the rest.
                refused(error)
                remaining = remaining.dropFirst()
            }
        }
        return []
    }

    /// Lays the datagrams' bytes and addresses out in two buffers, so that one call sends them all.
    private static func sendmmsg(_ descriptor: Int32, _ datagrams: ArraySlice<Datagram>, segment: Bool) -> (sent: Int, error: Int32) {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(datagrams.reduce(0) { $0 + $1.bytes.count })
        var addresses = [sockaddr_storage](repeating: sockaddr_storage(), count: datagrams.count)
        var lengths: [socklen_t] = []
        lengths.reserveCapacity(datagrams.count)
        for (index, datagram) in datagrams.enumerated() {
            bytes += datagram.bytes
            let length = datagram.address.withSockAddr { pointer, length in
                withUnsafeMutableBytes(of: &addresses[index]) { $0.copyMemory(from: UnsafeRawBufferPointer(start: pointer, count: length)) }
                return length
            }
            lengths.append(socklen_t(length))
        }
        return bytes.withUnsafeBytes { bytes in
            addresses.withUnsafeBufferPointer { addresses in
                withUnsafeTemporaryAllocation(of: ratel_datagram.self, capacity: datagrams.count) { table in
                    guard let firstAddress = addresses.baseAddress else { return (0, 0) }
                    var offset = 0
                    for (index, datagram) in datagrams.enumerated() {
                        let address = UnsafeRawPointer(firstAddress + index).assumingMemoryBound(to: sockaddr.self)
                        table[index] = ratel_datagram(bytes: bytes.baseAddress.map { $0 + offset }, length: datagram.bytes.count,
                                                      address: address, address_length: lengths[index])
                        offset += datagram.bytes.count
                    }
                    var error: Int32 = 0
                    let sent = ratel_send_datagrams(descriptor, table.baseAddress, UInt32(datagrams.count), segment ? 1 : 0, &error)
                    return (Int(sent), error)
                }
            }
        }
    }
}
