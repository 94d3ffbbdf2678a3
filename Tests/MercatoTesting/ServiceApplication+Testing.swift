public import Foundation
public import HTTPTypes
public import Hummingbird
public import Logging
import NIOEmbedded
public import ServiceKit

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
