import Foundation
public import HTTPTypes
import Hummingbird
public import Logging
import NIOEmbedded
public import ServiceKit
public import Testing

extension ServiceApplication {
    /// A client of the whole application, in process: each request goes through every
    /// middleware, route and error mapping a request from the network meets, with the
    /// service's own request context (over a test channel, which a stream's close closes).
    public var client: RouterClient<MercatoRequestContext> {
        RouterClient(responder: responder) { logger in
            MercatoRequestContext(
                source: ApplicationRequestContextSource(channel: NIOAsyncTestingChannel(), logger: logger))
        }
    }

    /// Sends one request through the whole application, in process.
    public func respond(
        _ method: HTTPRequest.Method, _ path: String, headers: HTTPFields = [:], body: String? = nil,
        logger: Logger = Logger(label: "tests")
    ) async throws -> TestResponse {
        try await client.respond(method, path, headers: headers, body: body, logger: logger)
    }
}

extension TestTokens {
    /// An environment in which a service verifies these tokens, and connects to nothing real
    /// (its dependencies are injected): for building the application in unit tests.
    public func serviceEnvironment(_ extra: [String: String] = [:]) -> EnvironmentReader {
        EnvironmentReader(
            [
                "AUTH_JWT_SECRET": secret, "AUTH_ISSUER": issuer, "AUTH_AUDIENCE": audience,
                "AMQP_URL": "amqp://tests:tests@127.0.0.1:1/%2F",
            ]
            .merging(extra) { _, new in new })
    }
}

extension ServiceApplication {
    /// Checks what every service's application answers, whatever the service: live; not ready,
    /// with `database.connection` false (a unit test never runs its database client); the
    /// OpenAPI document and metrics open; `method` on `path`, a method its document does not
    /// list there, a 405 with `Allow` and the JSON error; `path` without a token a 401.
    /// Returns readiness's answer, for the service's own checks.
    @discardableResult
    public func expectCommonRoutes(
        tokens: TestTokens, unlisted method: HTTPRequest.Method, on path: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> TestResponse {
        #expect(try await respond(.get, "/health/live").status == .ok, sourceLocation: sourceLocation)
        let ready = try await respond(.get, "/health/ready")
        #expect(ready.status == .serviceUnavailable && ready.body.count > 0, sourceLocation: sourceLocation)
        #expect(
            ((ready.json as? [String: Any])?["checks"] as? [String: Bool])?["database.connection"] == false,
            sourceLocation: sourceLocation)
        #expect(try await respond(.get, "/openapi.json").status == .ok, sourceLocation: sourceLocation)
        #expect(try await respond(.get, "/metrics").status == .ok, sourceLocation: sourceLocation)
        let wrongMethod = try await respond(method, path, headers: TestTokens.bearer(try await tokens.admin()))
        #expect(
            wrongMethod.status == .methodNotAllowed && wrongMethod.errorCode != nil
                && wrongMethod.headers[.allow] != nil,
            sourceLocation: sourceLocation)
        #expect(try await respond(.get, path).status == .unauthorized, sourceLocation: sourceLocation)
        return ready
    }
}
