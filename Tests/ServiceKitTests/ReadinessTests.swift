import Broker
import Foundation
import Hummingbird
import Logging
import MercatoTesting
import Postgres
import Testing

@testable import ServiceKit

/// `/health/ready` answers from what the service knows, at once, whatever its dependencies
/// are doing: a Kubernetes probe gives it 1 s, and a pod that cannot answer in time is taken
/// out of service while it may be perfectly able to serve.
@Suite(.timeLimit(.minutes(1)))
struct ReadinessTests {
    static func router(readiness: Readiness, database: PostgresClient, broker: any Broker) -> Router<TestRequestContext>
    {
        let router = Router(context: TestRequestContext.self)
        HealthRoutes.add(to: router, readiness: readiness, database: database, broker: broker)
        return router
    }

    static func unreachableDatabase() throws -> PostgresClient {
        // Port 1 on loopback: refused at once, nothing listens there.
        PostgresClient(
            configuration: try .init(url: "postgres://nobody@127.0.0.1:1/none"), logger: Logger(label: "tests"))
    }

    /// The broker's connection is stuck in the AMQP handshake with a peer that never
    /// answers (its thread blocked in rabbitmq-c); readiness does not wait for it.
    @Test func answersWhileTheBrokerConnectionHangsInItsHandshake() async throws {
        let peer = try SilentPeer()
        var configuration = RabbitMQBroker.Configuration()
        configuration.port = peer.port
        configuration.connectTimeout = .seconds(3600)
        let broker = RabbitMQBroker(configuration: configuration, logger: Logger(label: "tests"))
        let running = Task { try await broker.run() }
        try await waitUntil("the broker to connect to the silent peer") { peer.hasConnection }

        let readiness = Readiness()
        readiness.require(Readiness.broker)
        readiness.markUp(Readiness.broker)
        let client = Self.router(readiness: readiness, database: try Self.unreachableDatabase(), broker: broker).client
        let response = try await withDeadline(.seconds(20), "an answer from /health/ready") {
            try await client.respond(.get, "/health/ready")
        }
        #expect(response.status == .serviceUnavailable)
        let checks = (response.json as? [String: Any])?["checks"] as? [String: Bool]
        #expect(checks?["broker.connection"] == false)
        #expect(checks?["database.connection"] == false)

        peer.close()
        await broker.shutdown()
        _ = await running.result
    }
}
