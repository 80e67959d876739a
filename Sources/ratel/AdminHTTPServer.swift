import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// The small HTTP port beside the RADIUS ports: `GET /metrics` (Prometheus text), `GET /calls`
/// (the live calls, JSON) and `POST /calls/end?key=KEY` (a Disconnect-Request for one call).
/// Nothing that changes the ledger is reachable here; it listens on loopback by default.
struct AdminHTTPServer {
    struct Response: Sendable {
        var status: HTTPResponseStatus
        var contentType: String
        var body: [UInt8]
    }

    struct Request: Sendable {
        var method: HTTPMethod
        var path: String
        /// Query parameters, percent-decoded; the first of a repeated name counts.
        var query: [String: String]
    }

    typealias Responder = @Sendable (Request) async -> Response

    static func bind(host: String, port: Int, group: any EventLoopGroup, responder: @escaping Responder) async throws -> any Channel {
        try await ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(Handler(responder: responder))
                }
            }
            .bind(host: host, port: port).get()
    }

    final class Handler: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart

        let responder: Responder
        private var request: HTTPRequestHead?

        init(responder: @escaping Responder) { self.responder = responder }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head): request = head
            case .body: break
            case .end:
                guard let head = request else { return }
                request = nil
                let channel = context.channel
                let keepAlive = head.isKeepAlive
                let components = URLComponents(string: head.uri)
                let pairs = (components?.queryItems ?? []).map { ($0.name, $0.value ?? "") }
                let request = Request(method: head.method, path: components?.path ?? "",
                                      query: Dictionary(pairs, uniquingKeysWith: { first, _ in first }))
                let responder = responder
                Task {
                    let response = await responder(request)
                    var headers = HTTPHeaders()
                    headers.add(name: "Content-Type", value: response.contentType)
                    headers.add(name: "Content-Length", value: String(response.body.count))
                    headers.add(name: "Connection", value: keepAlive ? "keep-alive" : "close")
                    let head = HTTPResponseHead(version: .http1_1, status: response.status, headers: headers)
                    channel.write(HTTPServerResponsePart.head(head), promise: nil)
                    channel.write(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(bytes: response.body))), promise: nil)
                    try? await channel.writeAndFlush(HTTPServerResponsePart.end(nil))
                    if !keepAlive { try? await channel.close() }
                }
            }
        }
    }
}
