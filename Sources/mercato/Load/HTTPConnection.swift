import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// One keep-alive HTTP/1.1 connection on SwiftNIO, sending one request at a time.
///
/// The load generator gives each of its clients a connection of its own, so what it measures
/// is the services, not a client's connection pool; URLSession (libcurl on Linux) costs more
/// CPU per request than the services under test on this 2-core machine.
struct HTTPConnection {
    /// An answer: status and body.
    struct Response {
        var status: Int
        var body: ByteBuffer

        func json() -> [String: Any]? {
            (try? JSONSerialization.jsonObject(with: Data(body.readableBytesView))) as? [String: Any]
        }
    }

    let host: String
    let port: Int
    /// Sent as `Authorization: Bearer …` with every request.
    let token: String?

    init(url: String, token: String? = nil) throws {
        self.token = token
        guard let components = URLComponents(string: url), components.scheme == "http", let host = components.host
        else {
            throw ValidationFailure("\(url) is not an http:// URL")
        }
        self.host = host
        self.port = components.port ?? 80
    }

    /// Sends one request on a connection and reads its response: `send(.GET, "/path", nil)`,
    /// with an `Idempotency-Key` when given.
    struct Sender {
        let perform:
            (_ method: HTTPMethod, _ path: String, _ json: ByteBuffer?, _ idempotencyKey: String?) async throws ->
                Response

        func callAsFunction(_ method: HTTPMethod, _ path: String, _ json: ByteBuffer?, idempotencyKey: String? = nil)
            async throws -> Response
        {
            try await perform(method, path, json, idempotencyKey)
        }
    }

    /// Connects and runs `body` with a way to send requests; closes the connection after.
    func withConnection<Result: Sendable>(_ body: (_ send: Sender) async throws -> Result) async throws -> Result {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(
                        wrappingChannelSynchronously: channel)
                }
            }
        let hostHeader = "\(host):\(port)"
        return try await channel.executeThenClose { inbound, outbound in
            var responses = inbound.makeAsyncIterator()
            return try await body(
                Sender { method, path, json, idempotencyKey in
                    var headers = HTTPHeaders([("host", hostHeader), ("content-length", "\(json?.readableBytes ?? 0)")])
                    if let idempotencyKey { headers.add(name: "idempotency-key", value: idempotencyKey) }
                    if json != nil { headers.add(name: "content-type", value: "application/json") }
                    if let token { headers.add(name: "authorization", value: "Bearer \(token)") }
                    var parts: [HTTPClientRequestPart] = [
                        .head(HTTPRequestHead(version: .http1_1, method: method, uri: path, headers: headers))
                    ]
                    if let json { parts.append(.body(.byteBuffer(json))) }
                    parts.append(.end(nil))
                    try await outbound.write(contentsOf: parts)
                    var response = Response(status: 0, body: ByteBuffer())
                    while let part = try await responses.next() {
                        switch part {
                        case .head(let head): response.status = Int(head.status.code)
                        case .body(var chunk): response.body.writeBuffer(&chunk)
                        case .end: return response
                        }
                    }
                    throw ValidationFailure("\(hostHeader) closed the connection")
                })
        }
    }
}
