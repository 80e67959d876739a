public import NIOCore
import NIOPosix
import Synchronization
public import RadiusProtocol

/// A RADIUS port on UDP. Each datagram is answered by its own task, so a slow ledger write for
/// one call never holds up another; the reply goes back from the socket the request came in on.
/// Shutdown stops taking new datagrams, waits for the ones in flight, then closes the socket.
public final class UDPListener: Sendable {
    public let listener: Listener
    public let localAddress: SocketAddress
    private let channel: any Channel
    private let flight: Flight

    final class Flight: Sendable {
        struct State {
            var accepting = true
            var inFlight = 0
        }
        let state = Mutex(State())
        let limit: Int
        init(limit: Int) { self.limit = limit }
    }

    private init(listener: Listener, channel: any Channel, flight: Flight) throws {
        self.listener = listener
        self.channel = channel
        self.flight = flight
        guard let local = channel.localAddress else { throw ConfigurationError("the \(listener.rawValue) socket has no local address") }
        localAddress = local
    }

    static let messagesPerRead = 32

    public static func bind(host: String, port: Int, listener: Listener, engine: RadiusEngine, group: any EventLoopGroup,
                            receiveBufferBytes: Int = 4 << 20, maxInFlight: Int = 8192) async throws -> UDPListener {
        let flight = Flight(limit: maxInFlight)
        let address = try SocketAddress.makeAddressResolvingHost(host, port: port)
        var bootstrap = DatagramBootstrap(group: group)
        if case .v6 = address {
            // Leaves IPv4 to its own socket, so `0.0.0.0` and `::` can both be bound to one port.
            bootstrap = bootstrap.channelOption(ChannelOptions.Types.SocketOption(level: .ipv6, name: .ipv6_v6only), value: 1)
        }
        // A vector read splits one buffer evenly between its messages, so the buffer holds a whole
        // largest datagram (plus one octet, to see an oversized one) for each of them.
        let channel = try await bootstrap
            .channelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .channelOption(ChannelOptions.socketOption(.so_rcvbuf), value: SocketOptionValue(receiveBufferBytes))
            .channelOption(ChannelOptions.recvAllocator,
                           value: FixedSizeRecvByteBufferAllocator(capacity: (RadiusPacket.maximumLength + 1) * Self.messagesPerRead))
            .channelOption(ChannelOptions.datagramVectorReadMessageCount, value: Self.messagesPerRead)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(DatagramHandler(engine: engine, listener: listener, flight: flight))
                }
            }
            .bind(to: address).get()
        return try UDPListener(listener: listener, channel: channel, flight: flight)
    }

    /// Stops taking requests, lets those in flight finish (up to `timeoutSeconds`), and closes.
    public func shutdown(timeoutSeconds: Int = 10) async {
        flight.state.withLock { $0.accepting = false }
        let deadline = NIODeadline.now() + .seconds(Int64(timeoutSeconds))
        while flight.state.withLock({ $0.inFlight }) > 0, NIODeadline.now() < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
        try? await channel.close()
    }

    final class DatagramHandler: ChannelInboundHandler, Sendable {
        typealias InboundIn = AddressedEnvelope<ByteBuffer>
        typealias OutboundOut = AddressedEnvelope<ByteBuffer>

        let engine: RadiusEngine
        let listener: Listener
        let flight: Flight

        init(engine: RadiusEngine, listener: Listener, flight: Flight) {
            self.engine = engine
            self.listener = listener
            self.flight = flight
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let envelope = unwrapInboundIn(data)
            let limit = flight.limit
            let admitted = flight.state.withLock { state in
                guard state.accepting, state.inFlight < limit else { return false }
                state.inFlight += 1
                return true
            }
            guard admitted else {
                engine.metrics.drop(listener.rawValue, nas: "any", reason: "overloaded_or_stopping")
                return
            }
            let channel = context.channel
            let bytes = Array(envelope.data.readableBytesView)
            let source = envelope.remoteAddress
            let (engine, listener, tracker) = (self.engine, self.listener, self.flight)
            Task {
                defer { tracker.state.withLock { $0.inFlight -= 1 } }
                guard let reply = await engine.handle(bytes, from: source, on: listener) else { return }
                let out = AddressedEnvelope(remoteAddress: source, data: ByteBuffer(bytes: reply))
                channel.writeAndFlush(out, promise: nil)
            }
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            // A failed receive (ICMP unreachable reported on the socket, a truncated datagram) is not fatal.
            engine.metrics.drop(listener.rawValue, nas: "any", reason: "socket_error")
        }
    }
}
