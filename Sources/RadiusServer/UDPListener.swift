import CoreMetrics
import Ledger
public import NIOCore
import NIOPosix
import Synchronization
public import RadiusProtocol

/// A RADIUS port on UDP (see `DatagramHandler` for how requests are spread over tasks); the
/// reply goes back from the socket the request came in on.
/// Shutdown stops taking new datagrams, waits for the ones in flight, then closes the socket.
public final class UDPListener: Sendable {
    public let listener: Listener
    public let localAddress: SocketAddress
    private let channels: [any Channel]
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

    private init(listener: Listener, channels: [any Channel], flight: Flight) throws {
        self.listener = listener
        self.channels = channels
        self.flight = flight
        guard let local = channels.first?.localAddress else { throw ConfigurationError("the \(listener.rawValue) socket has no local address") }
        localAddress = local
    }

    static let messagesPerRead = 32

    /// How the kernel deals a listen address's datagrams out to its sockets, one per event loop.
    public enum Spreading: String, Sendable, CaseIterable {
        /// By source address and port: each NAS port stays with one loop, with no contention
        /// between loops over one NAS's calls. A NAS sending from one port gets one core.
        case source
        /// By RADIUS Identifier: one NAS port keeps every loop busy; a retransmission (same
        /// Identifier) still goes to the loop that has the original.
        case identifier
    }

    /// Binds one socket per event loop of `group`, all on the same port: the kernel deals
    /// datagrams out to them as `spreading` says, and each loop decides its own.
    public static func bind(host: String, port: Int, listener: Listener, engine: RadiusEngine, group: any EventLoopGroup,
                            receiveBufferBytes: Int = 4 << 20, maxInFlight: Int = 8192,
                            spreading: Spreading = .source) async throws -> UDPListener {
        let flight = Flight(limit: maxInFlight)
        var address = try SocketAddress.makeAddressResolvingHost(host, port: port)
        if port != 0 { try DatagramSocket.ensureFree(address) }
        var channels: [any Channel] = []
        let loops = Array(group.makeIterator())
        do {
            for loop in loops {
                // Replies leave from the writer in bursts as large as the reads: the same room both ways.
                let socket = try DatagramSocket.bind(address, receiveBufferBytes: receiveBufferBytes,
                                                     sendBufferBytes: receiveBufferBytes, sharingPort: true)
                // The first socket of an ephemeral listener picks the port the others join.
                if address.port == 0 {
                    guard let chosen = socket.boundPort else { throw IOError(errnoCode: errno, reason: "getsockname") }
                    address.port = chosen
                }
                // A reuseport group's program covers the sockets that join it later as well.
                if channels.isEmpty, spreading == .identifier {
                    do { try socket.spreadByIdentifier(over: loops.count) } catch {
                        close(socket.descriptor)
                        throw error
                    }
                }
                let received = engine.metrics.received(listener.rawValue, address: Self.endpoint(address), loop: channels.count)
                channels.append(try await channel(on: loop, socket, listener: listener, engine: engine, flight: flight,
                                                  received: received))
            }
        } catch {
            for channel in channels { try? await channel.close() }
            throw error
        }
        return try UDPListener(listener: listener, channels: channels, flight: flight)
    }

    /// "192.0.2.1:1812" or "[2001:db8::1]:1812", as the start-up lines and the metrics name it.
    public static func endpoint(_ address: SocketAddress) -> String {
        let host = address.ipAddress ?? "?"
        return (host.contains(":") ? "[\(host)]" : host) + ":\(address.port ?? 0)"
    }

    private static func channel(on loop: any EventLoop, _ socket: DatagramSocket, listener: Listener, engine: RadiusEngine,
                                flight: Flight, received: Counter) async throws -> any Channel {
        // A vector read splits one buffer evenly between its messages, so the buffer holds a whole
        // largest datagram (plus one octet, to see an oversized one) for each of them.
        try await DatagramBootstrap(group: loop)
            .channelOption(ChannelOptions.recvAllocator,
                           value: FixedSizeRecvByteBufferAllocator(capacity: (RadiusPacket.maximumLength + 1) * Self.messagesPerRead))
            .channelOption(ChannelOptions.datagramVectorReadMessageCount, value: Self.messagesPerRead)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let replies = Replies(channel: channel, socket: socket, flight: flight, engine: engine, listener: listener)
                    try channel.pipeline.syncOperations.addHandler(DatagramHandler(engine: engine, listener: listener, replies: replies,
                                                                                   received: received))
                }
            }
            .withBoundSocket(socket.descriptor).get()
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
        for channel in channels { try? await channel.close() }
    }

    /// Takes a read's worth of datagrams at a time. With a store that decides in memory, the
    /// event loop decides the read itself, in slices of at most 8 datagrams (`Task.immediate`:
    /// nothing on that path suspends, so no hop to the pool and back), and each slice's replies
    /// go out in one `sendmmsg` once its ledger write is durable; a slice's write starts while
    /// the loop decides the next. The loops share the work through their sockets (`bind`).
    /// With any other store each datagram gets its own task, so a slow database round trip
    /// never holds up the rest.
    final class DatagramHandler: ChannelInboundHandler {
        typealias InboundIn = AddressedEnvelope<ByteBuffer>
        typealias OutboundOut = AddressedEnvelope<ByteBuffer>

        let engine: RadiusEngine
        let listener: Listener
        let replies: Replies
        let batching: Bool
        let received: Counter
        private var batch: [AddressedEnvelope<ByteBuffer>] = []
        static let largestSlice = 8

        init(engine: RadiusEngine, listener: Listener, replies: Replies, received: Counter) {
            self.engine = engine
            self.listener = listener
            self.replies = replies
            self.received = received
            batching = engine.store.decidesInMemory
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            batch.append(unwrapInboundIn(data))
        }

        func channelReadComplete(context: ChannelHandlerContext) {
            defer { context.fireChannelReadComplete() }
            guard !batch.isEmpty else { return }
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
            let work = Array(batch.prefix(admitted))
            batch.removeAll(keepingCapacity: true)
            let replies = self.replies
            let engine = self.engine
            let listener = self.listener
            if batching {
                for start in stride(from: 0, to: work.count, by: Self.largestSlice) {
                    let part = Array(work[start..<min(start + Self.largestSlice, work.count)])
                    Task.immediate { await DatagramHandler.answer(part, engine: engine, listener: listener, replies: replies) }
                }
            } else {
                for envelope in work {
                    Task {
                        let reply = await engine.handle(envelope.data.readableBytesView, from: envelope.remoteAddress, on: listener)
                        replies.send(reply.map { [DatagramSocket.Datagram(address: envelope.remoteAddress, bytes: $0)] } ?? [],
                                     finished: 1)
                    }
                }
            }
        }

        private static func answer(_ batch: [AddressedEnvelope<ByteBuffer>], engine: RadiusEngine, listener: Listener,
                                   replies: Replies) async {
            var ready: [DatagramSocket.Datagram] = []
            var waiting: [(RadiusEngine.Decision, SocketAddress)] = []
            // One deferral for the slice: a decision waits for it if its ledger operations left
            // anything to wait for; the others (a resent reply, a drop) go out at once.
            let durability = DeferredDurability()
            var settled = 0
            await DeferredDurability.$current.withValue(durability) {
                for envelope in batch {
                    let source = envelope.remoteAddress
                    let holds = durability.holds
                    guard let decision = await engine.decide(envelope.data.readableBytesView, from: source, on: listener,
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

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            // A failed receive (ICMP unreachable reported on the socket, a truncated datagram) is not fatal.
            engine.metrics.drop(listener.rawValue, nas: "any", reason: "socket_error")
        }
    }

    /// Sends replies from whichever thread has them, straight on the socket; only what the
    /// socket cannot take at once (its send buffer full) goes through the channel's loop.
    struct Replies: Sendable {
        let channel: any Channel
        let socket: DatagramSocket
        let flight: Flight
        let engine: RadiusEngine
        let listener: Listener
        let outbox = Outbox()

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
            var unsent: ArraySlice<DatagramSocket.Datagram> = []
            if !datagrams.isEmpty {
                let senders = flight.senders.add(1, ordering: .sequentiallyConsistent).newValue
                if senders < Flight.closing {
                    var refused = 0
                    unsent = socket.send(datagrams) { _ in refused += 1 }
                    for _ in 0..<refused { engine.metrics.drop(listener.rawValue, nas: "any", reason: "send_error") }
                }
                flight.senders.subtract(1, ordering: .sequentiallyConsistent)
            }
            if finished > 0 { flight.state.withLock { $0.inFlight -= finished } }
            guard !unsent.isEmpty else { return }
            let channel = channel
            channel.eventLoop.execute { [unsent] in
                for datagram in unsent {
                    channel.write(AddressedEnvelope(remoteAddress: datagram.address, data: ByteBuffer(bytes: datagram.bytes)), promise: nil)
                }
                channel.flush()
            }
        }
    }
}
