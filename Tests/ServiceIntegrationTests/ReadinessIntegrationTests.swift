import Broker
import BrokerTesting
import Foundation
import Hummingbird
import Logging
import MercatoTesting
import Postgres
import ServiceKit
import Testing

/// Readiness with a real pool: busy is not down.
@Suite(.needsPostgres, .timeLimit(.minutes(1)))
struct ReadinessIntegrationTests {
    /// Every pooled connection is taken (a long transaction, a burst of requests): a probe
    /// that queried the database would wait for a connection — up to the pool's acquire
    /// timeout, far beyond the probe's 1 s — and report a healthy database as down.
    @Test func answersAtOnceWhileEveryPooledConnectionIsBusy() async throws {
        var configuration = try PostgresClient.Configuration(url: Integration.databaseURL())
        configuration.poolSize = 1
        configuration.acquireTimeout = .seconds(3600)
        let client = PostgresClient(configuration: configuration, logger: Logger(label: "tests"))
        try await client.query("SELECT 1")

        let holding = OneShot()
        let release = OneShot()
        let holder = Task {
            try await client.transaction { connection in
                try await connection.query("SELECT 1")
                holding.fire()
                try await release.wait("the test to release the connection", timeout: .seconds(50))
            }
        }
        try await holding.wait("the only connection to be taken")

        let broker = InMemoryBroker()
        let readiness = Readiness()
        let router = Router(context: TestRequestContext.self)
        HealthRoutes.add(to: router, readiness: readiness, database: client, broker: broker)
        let http = router.client
        let response = try await withDeadline(.seconds(20), "an answer from /health/ready while the pool is busy") {
            try await http.respond(.get, "/health/ready")
        }
        #expect(response.status == .ok, "\(String(decoding: response.body, as: UTF8.self))")
        let checks = (response.json as? [String: Any])?["checks"] as? [String: Bool]
        #expect(checks?["database.connection"] == true)

        release.fire()
        try await holder.value
        await client.shutdown()
    }
}
