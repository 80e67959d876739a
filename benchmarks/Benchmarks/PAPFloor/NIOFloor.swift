import NIOCore
import NIOPosix

/// SwiftNIO: an event loop per thread, each with its own SO_REUSEPORT datagram channel reading 32
/// datagrams at a time (as `ratel serve` does); replies are written as they are decided and
/// flushed once per read.
enum NIOFloor {
    static let batch = 32

    static func start(_ floor: Floor, port: UInt16, threads: Int) throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        for loop in group.makeIterator() {
            _ = try DatagramBootstrap(group: loop)
                .channelOption(ChannelOptions.socketOption(NIOBSDSocket.Option(rawValue: SO_REUSEPORT)), value: 1)
                .channelOption(ChannelOptions.socketOption(.so_rcvbuf), value: 4 << 20)
                .channelOption(ChannelOptions.socketOption(.so_sndbuf), value: 4 << 20)
                .channelOption(ChannelOptions.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 4097 * batch))
                .channelOption(ChannelOptions.datagramVectorReadMessageCount, value: batch)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(Handler(floor: floor)) }
                }
                .bind(host: "127.0.0.1", port: Int(port)).wait()
        }
    }

    final class Handler: ChannelInboundHandler {
        typealias InboundIn = AddressedEnvelope<ByteBuffer>
        typealias OutboundOut = AddressedEnvelope<ByteBuffer>
        let floor: Floor
        init(floor: Floor) { self.floor = floor }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let request = unwrapInboundIn(data)
            guard let reply = floor.answer(request.data.readableBytesView) else { return }
            let envelope = AddressedEnvelope(remoteAddress: request.remoteAddress, data: context.channel.allocator.buffer(bytes: reply))
            context.write(wrapOutboundOut(envelope), promise: nil)
        }

        func channelReadComplete(context: ChannelHandlerContext) { context.flush() }
    }
}
