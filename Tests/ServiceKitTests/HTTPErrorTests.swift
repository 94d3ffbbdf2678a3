import Foundation
import HTTPTypes
import Hummingbird
import MercatoTesting
import NIOCore
import Postgres
import Testing

@testable import ServiceKit

/// How errors reach HTTP clients, through the middleware every service installs.
@Suite(.timeLimit(.minutes(1)))
struct HTTPErrorTests {
    struct Body: Decodable { var name: String }
    struct StreamBroke: Error {}

    func router(_ add: (Router<TestRequestContext>) -> Void) -> Router<TestRequestContext> {
        let router = Router(context: TestRequestContext.self)
        router.add(middleware: APIErrorMiddleware())
        add(router)
        return router
    }

    /// An unreachable database (a whole coalesced batch failing with it, say) is a 503 that
    /// tells the client when to retry, not a 500.
    @Test func anUnreachableDatabaseIsA503WithRetryAfter() async throws {
        let router = router {
            $0.post("/things") { _, _ -> Response in
                throw PostgresError(.connectionLost, "server closed the connection")
            }
        }
        let response = try await router.respond(.post, "/things")
        #expect(response.status == .serviceUnavailable)
        #expect(response.headers[.retryAfter] == "1")
        #expect(response.errorCode == "service_unavailable")
    }

    @Test func aBodyOverTheLimitIs413() async throws {
        let router = router {
            $0.post("/things") { request, _ -> Response in
                _ = try await request.decodeJSON(Body.self, limit: 10)
                return Response(status: .ok)
            }
        }
        let response = try await router.respond(
            .post, "/things", headers: [.contentType: "application/json"], body: #"{"name": "longer than ten bytes"}"#)
        #expect(response.status == .contentTooLarge)
        #expect(response.errorCode == "payload_too_large")
    }

    /// A body stream that breaks is not "too large".
    @Test func aBodyThatCannotBeReadIsNotCalledTooLarge() async throws {
        let router = router {
            $0.post("/things") { request, _ -> Response in
                _ = try await request.decodeJSON(Body.self, limit: 1000)
                return Response(status: .ok)
            }
        }
        let (stream, continuation) = AsyncThrowingStream<ByteBuffer, any Error>.makeStream()
        continuation.yield(ByteBuffer(string: #"{"na"#))
        continuation.finish(throwing: StreamBroke())
        let response = try await router.respond(
            .post, "/things", headers: [.contentType: "application/json"], body: RequestBody(asyncSequence: stream))
        #expect(response.status == .badRequest)
        #expect(response.errorCode == "body_unreadable")
    }
}
