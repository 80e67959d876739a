public import NIOCore
import NIOPosix
import Synchronization
public import RadiusProtocol

/// Sends Disconnect-Request and CoA-Request (RFC 5176) from one socket per address family and
/// waits for the ACK or NAK. A request is retransmitted with the same Identifier and Request
/// Authenticator on the RFC 5080 schedule (doubling, with jitter, up to a maximum), and an
/// Identifier is not reused towards a NAS port until its exchange is over.
public final class DynamicAuthorizationClient: Sendable {
    public struct Timing: Sendable {
        public var initialMilliseconds: Int64
        public var maximumMilliseconds: Int64
        public var attempts: Int
        public var totalMilliseconds: Int64

        /// RFC 5080 section 2.2.1: IRT 2 s, MRT 16 s, MRC 5, MRD 30 s.
        public init(initialMilliseconds: Int64 = 2_000, maximumMilliseconds: Int64 = 16_000, attempts: Int = 5,
                    totalMilliseconds: Int64 = 30_000) {
            self.initialMilliseconds = initialMilliseconds
            self.maximumMilliseconds = maximumMilliseconds
            self.attempts = attempts
            self.totalMilliseconds = totalMilliseconds
        }
    }

    enum Event: Sendable {
        case response([UInt8])
        case timeout(attempt: Int)
    }

    struct Exchange: Hashable {
        var destination: SocketAddress
        var identifier: UInt8
    }

    struct Pending {
        var waiting: [Exchange: AsyncStream<Event>.Continuation] = [:]
        var nextIdentifier: [SocketAddress: UInt8] = [:]
    }

    private let channels: [any Channel]
    private let pending: Mutex<Pending>
    private let timing: Timing
    private let metrics: ServerMetrics

    private init(channels: [any Channel], timing: Timing, metrics: ServerMetrics) {
        self.channels = channels
        pending = Mutex(Pending())
        self.timing = timing
        self.metrics = metrics
    }

    /// Binds an ephemeral port on IPv4 and, where the host has it, IPv6.
    public static func start(group: any EventLoopGroup, timing: Timing = Timing(),
                             metrics: ServerMetrics) async throws -> DynamicAuthorizationClient {
        let box = Inbox.Box()
        var channels: [any Channel] = []
        for host in ["0.0.0.0", "::"] {
            do {
                channels.append(try await DatagramBootstrap(group: group)
                    .channelInitializer { channel in
                        channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(Inbox(box: box)) }
                    }
                    .bind(host: host, port: 0).get())
            } catch where host == "::" {
                continue  // a host without IPv6 still reaches its IPv4 NASes
            }
        }
        let client = DynamicAuthorizationClient(channels: channels, timing: timing, metrics: metrics)
        box.client.withLock { $0 = client }
        return client
    }

    public func close() async {
        for channel in channels { try? await channel.close() }
    }

    /// Sends `code` (Disconnect-Request or CoA-Request) with `attributes` plus Event-Timestamp
    /// and Message-Authenticator, and returns once an answer verifies or the schedule runs out.
    public func send(_ code: RadiusCode, attributes: [OutgoingAttribute], to destination: SocketAddress,
                     secret: [UInt8], now: Int64) async -> ControlOutcome {
        guard let channel = channels.first(where: { $0.localAddress?.protocol == destination.protocol }) else { return .noAnswer }
        let (events, continuation) = AsyncStream<Event>.makeStream()
        guard let exchange = register(destination, continuation) else { return .noAnswer }
        defer { unregister(exchange) }
        let stamped = attributes + [OutgoingAttribute(AttributeType.eventTimestamp, integer: UInt32(clamping: now))]
        guard let request = try? PacketEncoder.accountingStyleRequest(code, identifier: exchange.identifier, attributes: stamped,
                                                                       secret: secret, withMessageAuthenticator: true)
        else { return .refused(errorCause: nil) }
        let authenticator = request[4..<20]
        let (ack, nak): (RadiusCode, RadiusCode) = code == .coaRequest ? (.coaACK, .coaNAK) : (.disconnectACK, .disconnectNAK)

        var attempt = 0
        var wait = timing.initialMilliseconds
        var waited: Int64 = 0
        func transmit() {
            channel.writeAndFlush(AddressedEnvelope(remoteAddress: destination, data: ByteBuffer(bytes: request)), promise: nil)
            let scheduled = attempt
            channel.eventLoop.scheduleTask(in: .milliseconds(wait)) { continuation.yield(.timeout(attempt: scheduled)) }
        }
        transmit()
        for await event in events {
            switch event {
            case .timeout(let expired):
                guard expired == attempt else { continue }
                waited += wait
                attempt += 1
                guard attempt < timing.attempts, waited < timing.totalMilliseconds else { return .noAnswer }
                wait = min(timing.maximumMilliseconds, 2 * wait + Int64.random(in: -wait / 10...wait / 10))
                wait = min(wait, timing.totalMilliseconds - waited)
                transmit()
            case .response(let bytes):
                guard let answer = try? RadiusPacket(decoding: bytes), answer.code == ack || answer.code == nak,
                      (try? answer.verifyResponse(to: authenticator, secret: secret)) != nil else {
                    metrics.controlDrop(reason: "invalid_answer")
                    continue
                }
                let cause = answer.integer(AttributeType.errorCause)
                if answer.code == ack { return .acknowledged }
                return cause == Self.sessionContextNotFound ? .sessionGone : .refused(errorCause: cause)
            }
        }
        return .noAnswer
    }

    static let sessionContextNotFound: UInt32 = 503

    /// Picks the next Identifier not in use towards `destination` (RFC 5080 section 2.2.2).
    private func register(_ destination: SocketAddress, _ continuation: AsyncStream<Event>.Continuation) -> Exchange? {
        pending.withLock { pending in
            let start = pending.nextIdentifier[destination] ?? 0
            for offset in 0..<256 {
                let identifier = start &+ UInt8(truncatingIfNeeded: offset)
                let exchange = Exchange(destination: destination, identifier: identifier)
                guard pending.waiting[exchange] == nil else { continue }
                pending.waiting[exchange] = continuation
                pending.nextIdentifier[destination] = identifier &+ 1
                return exchange
            }
            return nil
        }
    }

    private func unregister(_ exchange: Exchange) {
        let continuation = pending.withLock { $0.waiting.removeValue(forKey: exchange) }
        continuation?.finish()
    }

    fileprivate func received(_ bytes: [UInt8], from source: SocketAddress) {
        guard bytes.count >= 2 else { return metrics.controlDrop(reason: "short_datagram") }
        let continuation = pending.withLock { $0.waiting[Exchange(destination: source, identifier: bytes[1])] }
        guard let continuation else { return metrics.controlDrop(reason: "unsolicited") }
        continuation.yield(.response(bytes))
    }

    /// Hands each socket's datagrams to the client, which exists only once the sockets do.
    final class Inbox: ChannelInboundHandler, Sendable {
        typealias InboundIn = AddressedEnvelope<ByteBuffer>
        final class Box: Sendable { let client = Mutex<DynamicAuthorizationClient?>(nil) }
        let box: Box
        init(box: Box) { self.box = box }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let envelope = unwrapInboundIn(data)
            box.client.withLock { $0 }?.received(Array(envelope.data.readableBytesView), from: envelope.remoteAddress)
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            // An ICMP unreachable from a NAS without a listener; the exchange times out on its own.
        }
    }
}
