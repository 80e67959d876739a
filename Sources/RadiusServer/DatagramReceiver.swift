import CDatagram
import CThreadSlice
import Foundation
import Glibc
import NIOCore
import RadiusProtocol
import Synchronization

/// A datagram as it arrived: its octets (a copy: a decision that suspends must not see the
/// receive buffer reused under it) and where it came from.
struct ReceivedDatagram: Sendable {
    let bytes: [UInt8]
    let source: SocketAddress
}

/// Reads one socket on a thread of its own, a `recvmmsg` of up to `messagesPerRead` datagrams at
/// a time, and hands each read to `deliver` on that thread. SwiftNIO's datagram channel did the
/// same from its event loop, but built for every datagram a source address with its text form
/// (`inet_ntop` and a string), a boxed envelope and a buffer slice, and went through the
/// pipeline: about a twentieth of the loop's CPU at the PAP peak, where the reads themselves
/// are the kernel's. Blocking in `recvmmsg` also spares the `epoll_wait` between reads.
final class DatagramReceiver: Sendable {
    static let messagesPerRead = 32
    /// How often a thread waiting for datagrams looks whether it should stop.
    static let stopCheckMilliseconds = 100

    private let socket: DatagramSocket
    private let stopping = Atomic<Bool>(false)
    private let stopped = DispatchSemaphore(value: 0)

    /// Starts reading. `failed` hears of a read the kernel refused (an ICMP error reported on
    /// the socket); reading goes on.
    init(socket: DatagramSocket, name: String, deliver: @escaping @Sendable ([ReceivedDatagram]) -> Void,
         failed: @escaping @Sendable (Int32) -> Void) throws {
        self.socket = socket
        try socket.waitForReads(timeoutMilliseconds: Self.stopCheckMilliseconds)
        let thread = Thread { [self] in
            _ = ratel_name_this_thread(name)
            // Each read is decided here in tens of microseconds, its replies waiting. Trials at half
            // the PAP peak: p99 6.1 ms (median of six) against 7.5 ms (of five) without this.
            _ = ratel_request_shortest_slices()
            read(deliver: deliver, failed: failed)
            stopped.signal()
        }
        thread.start()
    }

    /// Stops reading, once the read under way (if any) is delivered.
    func stop() {
        guard !stopping.exchange(true, ordering: .sequentiallyConsistent) else { return }
        stopped.wait()
    }

    private func read(deliver: @Sendable ([ReceivedDatagram]) -> Void, failed: @Sendable (Int32) -> Void) {
        // One octet more than the largest packet, so an oversized one is seen as such.
        let slot = RadiusPacket.maximumLength + 1
        let count = Self.messagesPerRead
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: slot * count, alignment: 16)
        let received = UnsafeMutablePointer<ratel_received>.allocate(capacity: count)
        defer {
            buffer.deallocate()
            received.deallocate()
        }
        var sources = RecentSources()
        while !stopping.load(ordering: .relaxed) {
            var error: Int32 = 0
            let arrived = Int(ratel_receive_datagrams(socket.descriptor, received, UInt32(count), buffer, slot, &error))
            guard arrived > 0 else {
                if arrived < 0, error != EAGAIN, error != EWOULDBLOCK {
                    failed(error)
                    // A socket that is no longer one will not become one again.
                    if error == EBADF || error == ENOTSOCK { return }
                }
                continue
            }
            var batch: [ReceivedDatagram] = []
            batch.reserveCapacity(arrived)
            for index in 0..<arrived {
                let datagram = received[index]
                guard let source = sources.address(datagram.source, length: datagram.source_length, make: Self.address) else {
                    failed(EAFNOSUPPORT)
                    continue
                }
                let bytes = UnsafeRawBufferPointer(start: buffer + index * slot, count: min(datagram.length, slot))
                batch.append(ReceivedDatagram(bytes: Array(bytes), source: source))
            }
            if !batch.isEmpty { deliver(batch) }
        }
    }

    /// The source address without its text form (an empty host name): the client table reads
    /// the address's octets, and a log line that names it formats them then.
    private static func address(_ storage: sockaddr_storage, length: socklen_t) -> SocketAddress? {
        withUnsafeBytes(of: storage) { raw in
            switch Int32(storage.ss_family) {
            case AF_INET where Int(length) >= MemoryLayout<sockaddr_in>.size:
                SocketAddress(raw.loadUnaligned(as: sockaddr_in.self), host: "")
            case AF_INET6 where Int(length) >= MemoryLayout<sockaddr_in6>.size:
                SocketAddress(raw.loadUnaligned(as: sockaddr_in6.self), host: "")
            default:
                nil
            }
        }
    }
}

/// The source addresses a receiver saw last, each made once. A NAS sends from one address or a
/// few, and making one per datagram cost an allocation each; a live call also keeps its
/// request's (in its Disconnect handle), so on a freshly started server each was new memory.
struct RecentSources {
    private static let capacity = 16
    private var entries: [(storage: sockaddr_storage, length: socklen_t, address: SocketAddress)] = []
    private var next = 0

    mutating func address(_ storage: sockaddr_storage, length: socklen_t,
                          make: (sockaddr_storage, socklen_t) -> SocketAddress?) -> SocketAddress? {
        let compared = min(Int(length), MemoryLayout<sockaddr_storage>.size)
        for entry in entries where entry.length == length && Self.same(entry.storage, storage, count: compared) {
            return entry.address
        }
        guard let address = make(storage, length) else { return nil }
        if entries.count < Self.capacity {
            entries.append((storage, length, address))
        } else {
            entries[next] = (storage, length, address)
            next = (next + 1) % Self.capacity
        }
        return address
    }

    private static func same(_ left: sockaddr_storage, _ right: sockaddr_storage, count: Int) -> Bool {
        withUnsafeBytes(of: left) { left in
            withUnsafeBytes(of: right) { right in
                guard let left = left.baseAddress, let right = right.baseAddress else { return false }
                return memcmp(left, right, count) == 0
            }
        }
    }
}
