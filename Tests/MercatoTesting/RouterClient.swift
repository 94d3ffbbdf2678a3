public import Foundation
public import HTTPTypes
public import Hummingbird
public import HummingbirdAuth
public import Logging
import NIOCore
public import ServiceKit

/// A request context for routers under test: no channel, no server.
public struct TestRequestContext: AuthRequestContext, RequestContext, ConnectionClosing {
    /// Where a test request comes from: only a logger.
    public struct Source: RequestContextSource {
        public var logger: Logger
    }

    public var coreContext: CoreRequestContextStorage
    /// The caller, once a ``BearerAuthenticator`` has verified its token.
    public var identity: Caller?
    /// In process there is no connection to close.
    public let closeConnection: @Sendable () -> Void = {}

    public init(source: Source) {
        coreContext = .init(source: source)
        identity = nil
    }
}

/// A response as a test reads it: the body collected.
public struct TestResponse: Sendable {
    /// The status.
    public var status: HTTPResponse.Status
    /// The headers.
    public var headers: HTTPFields
    /// The whole body.
    public var body: Data

    /// The body as JSON (a dictionary or an array), or `nil` if it is not JSON.
    public var json: Any? { try? JSONSerialization.jsonObject(with: body) }

    /// `error.field` of a Mercato error body.
    public var errorField: String? { ((json as? [String: Any])?["error"] as? [String: Any])?["field"] as? String }

    /// `error.code` of a Mercato error body.
    public var errorCode: String? { ((json as? [String: Any])?["error"] as? [String: Any])?["code"] as? String }
}

extension Router where Context == TestRequestContext {
    /// A client of this router, to use from any task.
    public var client: RouterClient<TestRequestContext> {
        RouterClient(responder: buildResponder()) { TestRequestContext(source: .init(logger: $0)) }
    }

    /// Sends one request through the router's middleware and routes, in process.
    public func respond(
        _ method: HTTPRequest.Method, _ path: String, headers: HTTPFields = [:], body: String? = nil,
        logger: Logger = Logger(label: "tests")
    ) async throws -> TestResponse {
        try await client.respond(method, path, headers: headers, body: body, logger: logger)
    }

    /// Sends one request with `body` as given (a stream that fails, say).
    public func respond(
        _ method: HTTPRequest.Method, _ path: String, headers: HTTPFields = [:], body: RequestBody,
        logger: Logger = Logger(label: "tests")
    ) async throws -> TestResponse {
        try await client.respond(method, path, headers: headers, body: body, logger: logger)
    }
}

/// Sends requests through a router's middleware and routes, in process: no socket, no
/// server.
public struct RouterClient<Context: RequestContext>: Sendable {
    let responder: RouterResponder<Context>
    let makeContext: @Sendable (Logger) -> Context

    /// A client of `responder`, whose requests get the context `makeContext` makes.
    public init(responder: RouterResponder<Context>, makeContext: @escaping @Sendable (Logger) -> Context) {
        self.responder = responder
        self.makeContext = makeContext
    }

    /// Sends one request through the router's middleware and routes, in process.
    public func respond(
        _ method: HTTPRequest.Method, _ path: String, headers: HTTPFields = [:], body: String? = nil,
        logger: Logger = Logger(label: "tests")
    ) async throws -> TestResponse {
        try await respond(
            method, path, headers: headers,
            body: body.map { RequestBody(buffer: ByteBuffer(string: $0)) } ?? RequestBody(buffer: ByteBuffer()),
            logger: logger)
    }

    /// Sends one request with `body` as given (a stream that fails, say).
    public func respond(
        _ method: HTTPRequest.Method, _ path: String, headers: HTTPFields = [:], body: RequestBody,
        logger: Logger = Logger(label: "tests")
    ) async throws -> TestResponse {
        let head = HTTPRequest(
            method: method, scheme: "http", authority: "localhost", path: path, headerFields: headers)
        let response = try await responder.respond(to: Request(head: head, body: body), context: makeContext(logger))
        let collected = CollectedBody()
        let responseBody = response.body
        try await responseBody.write(BodyCollector(target: collected))
        return TestResponse(
            status: response.status, headers: response.headers, body: Data(collected.bytes.readableBytesView))
    }
}

/// Where a ``BodyCollector`` puts the body; the writer itself is consumed by the response.
private final class CollectedBody {
    var bytes = ByteBuffer()
}

/// Collects a response body into one buffer.
private struct BodyCollector: ResponseBodyWriter {
    let target: CollectedBody

    mutating func write(_ buffer: ByteBuffer) async throws {
        var buffer = buffer
        target.bytes.writeBuffer(&buffer)
    }

    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
}
