import CoreMetrics
import Ledger
public import NIOCore
import Foundation
import Synchronization
public import RadiusProtocol

/// A RADIUS port on UDP (see `Dispatcher` for how requests are spread over tasks); the reply
/// goes back from the socket the request came in on.
/// Shutdown stops taking new datagrams, waits for the ones in flight, then closes the socket.
public final class UDPListener: Sendable {
    public let listener: Listener
    public let localAddress: SocketAddress
    private let sockets: [DatagramSocket]
    private let receivers: [DatagramReceiver]
    private let flight: Flight

    final class Flight: Sendable {
        struct State {
            var accepting = true
            var inFlight = 0
        }
        let state = Mutex(State())
        /// Sends under way on the sockets, plus `closing` once shutdown began closing them: a
        /// send starts only while that bit is clear, and the sockets close once none is under way.
        let senders = Atomic<Int>(0)
        static let closing = 1 << 40
        let limit: Int
        init(limit: Int) { self.limit = limit }
    }

    private init(listener: Listener, localAddress: SocketAddress, sockets: [DatagramSocket], receivers: [DatagramReceiver],
                 flight: Flight) {
        self.listener = listener
        self.localAddress = localAddress
        self.sockets = sockets
        self.receivers = receivers
        self.flight = flight
    }

    /// How the kernel deals a listen address's datagrams out to its sockets, one per reading thread.
    public enum Spreading: String, Sendable, CaseIterable {
        /// By source address and port: each NAS port stays with one thread, with no contention
        /// between threads over one NAS's calls. A NAS sending from one port gets one core.
        case source
        /// By RADIUS Identifier: one NAS port keeps every thread busy; a retransmission (same
        /// Identifier) still goes to the thread that has the original.
        case identifier
    }

    /// Binds `threads` sockets, all on the same port, each read by a thread of its own
    /// (`DatagramReceiver`): the kernel deals datagrams out to them as `spreading` says, and
    /// each decides its own.
    public static func bind(host: String, port: Int, listener: Listener, engine: RadiusEngine, threads: Int,
                            receiveBufferBytes: Int = 4 << 20, maxInFlight: Int = 8192,
                            spreading: Spreading = .source) async throws -> UDPListener {
        let flight = Flight(limit: maxInFlight)
        var address = try SocketAddress.makeAddressResolvingHost(host, port: port)
        if port != 0 { try DatagramSocket.ensureFree(address) }
        var sockets: [DatagramSocket] = []
        var receivers: [DatagramReceiver] = []
        let count = max(1, threads)
        do {
            for index in 0..<count {
                // Replies leave from the writer in bursts as large as the reads: the same room both ways.
                let socket = try DatagramSocket.bind(address, receiveBufferBytes: receiveBufferBytes,
                                                     sendBufferBytes: receiveBufferBytes, sharingPort: true)
                sockets.append(socket)
                // The first socket of an ephemeral listener picks the port the others join.
                if address.port == 0 {
                    guard let chosen = socket.boundPort else { throw IOError(errnoCode: errno, reason: "getsockname") }
                    address.port = chosen
                }
                // A reuseport group's program covers the sockets that join it later as well.
                if index == 0, spreading == .identifier { try socket.spreadByIdentifier(over: count) }
                let received = engine.metrics.received(listener.rawValue, address: Self.endpoint(address), loop: index)
                let replies = Replies(socket: socket, flight: flight, engine: engine, listener: listener)
                let dispatcher = Dispatcher(engine: engine, listener: listener, replies: replies, received: received)
                let threadName = "ratel-\(listener == .authentication ? "auth" : "acct")-\(index)"  // 15 bytes at most
                receivers.append(try DatagramReceiver(socket: socket, name: threadName,
                                                      deliver: dispatcher.dispatch) { _ in
                    // A failed receive (ICMP unreachable reported on the socket) is not fatal.
                    engine.metrics.drop(listener.rawValue, nas: "any", reason: "socket_error")
                })
            }
        } catch {
            for receiver in receivers { receiver.stop() }
            for socket in sockets { close(socket.descriptor) }
            throw error
        }
        return UDPListener(listener: listener, localAddress: address, sockets: sockets, receivers: receivers, flight: flight)
    }

    /// "192.0.2.1:1812" or "[2001:db8::1]:1812", as the start-up lines and the metrics name it.
    public static func endpoint(_ address: SocketAddress) -> String {
        let host = address.ipAddress ?? "?"
        return (host.contains(":") ? "[\(host)]" : host) + ":\(address.port ?? 0)"
    }

    /// Stops taking requests, lets those in flight finish (up to `timeoutSeconds`), and closes.
    public func shutdown(timeoutSeconds: Int = 10) async {
        flight.state.withLock { $0.accepting = false }
        let deadline = NIODeadline.now() + .seconds(Int64(timeoutSeconds))
        while flight.state.withLock({ $0.inFlight }) > 0, NIODeadline.now() < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
        // A reply still on its way after the deadline must not reach a descriptor reused by then.
        flight.senders.add(Flight.closing, ordering: .sequentiallyConsistent)
        while flight.senders.load(ordering: .sequentiallyConsistent) % Flight.closing != 0 {
            try? await Task.sleep(for: .milliseconds(1))
        }
        let receivers = receivers
        // Each stops within its wait for datagrams, on a thread that may block meanwhile.
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            Thread.detachNewThread {
                for receiver in receivers { receiver.stop() }
                done.resume()
            }
        }
        for socket in sockets { close(socket.descriptor) }
    }

    /// Takes a read's worth of datagrams at a time. With a store that decides in memory, the
    /// reading thread decides the read itself, in slices of at most 8 datagrams (`Task.immediate`:
    /// nothing on that path suspends, so no hop to the pool and back), and the replies of every
    /// slice one ledger write made durable go out in one `sendmmsg`; a write starts while the
    /// thread decides the next slices. The threads share the work through their sockets (`bind`).
    /// With any other store each datagram gets its own task, so a slow database round trip
    /// never holds up the rest.
    final class Dispatcher: Sendable {
        let engine: RadiusEngine
        let listener: Listener
        let replies: Replies
        let batching: Bool
        let received: Counter
        static let largestSlice = 8

        init(engine: RadiusEngine, listener: Listener, replies: Replies, received: Counter) {
            self.engine = engine
            self.listener = listener
            self.replies = replies
            self.received = received
            batching = engine.store.decidesInMemory
        }

        func dispatch(_ batch: [ReceivedDatagram]) {
            let arrived = batch.count
            received.increment(by: arrived)
            let flight = replies.flight
            let limit = flight.limit
            let admitted = flight.state.withLock { state in
                let room = state.accepting ? max(0, limit - state.inFlight) : 0
                let admitted = min(room, arrived)
                state.inFlight += admitted
                return admitted
            }
            for _ in admitted..<arrived {
                engine.metrics.drop(listener.rawValue, nas: "any", reason: "overloaded_or_stopping")
            }
            let replies = self.replies
            let engine = self.engine
            let listener = self.listener
            if batching {
                for start in stride(from: 0, to: admitted, by: Self.largestSlice) {
                    let part = batch[start..<min(start + Self.largestSlice, admitted)]
                    Task.immediate { await Dispatcher.answer(part, engine: engine, listener: listener, replies: replies) }
                }
            } else {
                for datagram in batch.prefix(admitted) {
                    Task {
                        let reply = await engine.handle(datagram.bytes, from: datagram.source, on: listener)
                        replies.send(reply.map { [DatagramSocket.Datagram(address: datagram.source, bytes: $0)] } ?? [],
                                     finished: 1)
                    }
                }
            }
        }

        private static func answer(_ batch: ArraySlice<ReceivedDatagram>, engine: RadiusEngine, listener: Listener,
                                   replies: Replies) async {
            var ready: [DatagramSocket.Datagram] = []
            var waiting: [(RadiusEngine.Decision, SocketAddress)] = []
            // One deferral for the slice: a decision waits for it if its ledger operations left
            // anything to wait for; the others (a resent reply, a drop) go out at once.
            let durability = DeferredDurability()
            var settled = 0
            await DeferredDurability.$current.withValue(durability) {
                for datagram in batch {
                    let source = datagram.source
                    let holds = durability.holds
                    guard let decision = await engine.decide(datagram.bytes, from: source, on: listener,
                                                             sharedDeferral: true) else {
                        settled += 1
                        continue
                    }
                    if durability.holds != holds {
                        waiting.append((decision, source))
                    } else {
                        settled += 1
                        if let reply = engine.settle(decision, failure: nil) {
                            ready.append(DatagramSocket.Datagram(address: source, bytes: reply))
                        }
                    }
                }
            }
            replies.send(ready, finished: settled)
            guard !waiting.isEmpty else { return }
            durability.whenDurable { [waiting] failure, round in
                let sent = waiting.compactMap { decision, source in
                    engine.settle(decision, failure: failure).map { DatagramSocket.Datagram(address: source, bytes: $0) }
                }
                // Every slice this write made durable goes out in one send, after the last of them.
                replies.outbox.add(sent, finished: waiting.count)
                round.atEnd(of: replies.outbox) { replies.sendOutbox() }
            }
        }
    }

    /// Sends replies from whichever thread has them, straight on the socket; only what the
    /// socket cannot take at once (its send buffer full) goes through the channel's loop.
    /// Sends replies from whichever thread has them, straight on the socket; what the socket
    /// cannot take at once (its send buffer full) waits for room, a little, on the same thread.
    struct Replies: Sendable {
        let socket: DatagramSocket
        let flight: Flight
        let engine: RadiusEngine
        let listener: Listener
        let outbox = Outbox()
        /// How long a send waits for room in a full send buffer before the replies are dropped
        /// (the NAS retransmits; a retransmission gets the cached reply).
        static let sendPatienceMilliseconds: Int32 = 1000

        /// Replies gathered over one round of the ledger writer's callbacks, for one send.
        final class Outbox: Sendable {
            private let gathered = Mutex<(datagrams: [DatagramSocket.Datagram], finished: Int)>(([], 0))

            func add(_ datagrams: [DatagramSocket.Datagram], finished: Int) {
                gathered.withLock { gathered in
                    gathered.datagrams += datagrams
                    gathered.finished += finished
                }
            }

            func take() -> (datagrams: [DatagramSocket.Datagram], finished: Int) {
                gathered.withLock { gathered in
                    defer { gathered = ([], 0) }
                    return gathered
                }
            }
        }

        func sendOutbox() {
            let (datagrams, finished) = outbox.take()
            send(datagrams, finished: finished)
        }

        func send(_ datagrams: [DatagramSocket.Datagram], finished: Int) {
            if !datagrams.isEmpty {
                let senders = flight.senders.add(1, ordering: .sequentiallyConsistent).newValue
                if senders < Flight.closing {
                    var refused = 0
                    var unsent = socket.send(datagrams) { _ in refused += 1 }
                    let deadline = NIODeadline.now() + .milliseconds(Int64(Self.sendPatienceMilliseconds))
                    while !unsent.isEmpty, NIODeadline.now() < deadline, socket.waitWritable(milliseconds: 10) {
                        unsent = socket.send(Array(unsent)) { _ in refused += 1 }
                    }
                    for _ in 0..<refused { engine.metrics.drop(listener.rawValue, nas: "any", reason: "send_error") }
                    for _ in unsent { engine.metrics.drop(listener.rawValue, nas: "any", reason: "send_buffer_full") }
                }
                flight.senders.subtract(1, ordering: .sequentiallyConsistent)
            }
            if finished > 0 { flight.state.withLock { $0.inFlight -= finished } }
        }
    }
}
