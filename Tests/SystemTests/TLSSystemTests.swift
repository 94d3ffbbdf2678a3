import Foundation
import Logging
import MercatoTesting
import Postgres
import Testing

@testable import Broker

/// TLS to RabbitMQ and PostgreSQL with verification, against the real servers: scripts/infra
/// gives them certificates from a throwaway CA (openssl) for `localhost`. The services work
/// over `amqps://` and `sslmode=verify-full` trusting that CA; a client trusting another CA is
/// refused by both.
@Suite(.needsSystem, .systemSlot, .serialized, .timeLimit(.minutes(10)))
struct TLSSystemTests {
    static var caFile: String { MercatoSystem.environment["MERCATO_TLS_CA_FILE"] ?? "" }
    static var otherCAFile: String { MercatoSystem.environment["MERCATO_TLS_OTHER_CA_FILE"] ?? "" }

    @Test func theServicesRunOverVerifiedTLS() async throws {
        let system = try await MercatoSystem.start(tlsCAFile: Self.caFile)
        #expect(system.serviceAMQPURL(.order).hasPrefix("amqps://"))
        let customer = OrderFlowSystemTests.seeds[0]
        let (status, order) = try await system.placeOrder(customer: customer, items: [("Tea", 1, "2.00")])
        #expect(status == 201)
        let id = try #require(order["id"] as? String)
        try await system.eventually("the order to be invoiced over TLS") {
            (try await system.request(.order, "GET", "/orders/\(id)").1 as? [String: Any])?["status"] as? String
                == "invoiced"
        }
        // The connections really are encrypted: PostgreSQL says so for the services' sessions.
        let encrypted = try await system.database(.order).query(
            "SELECT count(*) FROM pg_stat_ssl JOIN pg_stat_activity USING (pid) WHERE ssl AND usename = 'order_service'"
        )
        #expect(try encrypted[0].decode(Int.self, at: 0) > 0)
        await system.shutdown()
    }

    @Test func aBrokerWhoseCertificateIsNotFromTheTrustedCAIsRefused() async throws {
        var configuration = try RabbitMQBroker.Configuration(
            url: try #require(MercatoSystem.environment["MERCATO_AMQPS_URL"]))
        configuration.caFile = Self.otherCAFile
        configuration.connectTimeout = .seconds(2)
        configuration.publishTimeout = .seconds(3)
        let log = LogRecording()
        let broker = RabbitMQBroker(configuration: configuration, logger: log.logger(level: .warning))
        let run = Task { try await broker.run() }
        // Never connected: the declare cannot complete, and readiness never comes.
        let declared = Task { try await broker.declare(Topology(queues: [.init(name: uniqueName("tls"))])) }
        // The handshake was tried and refused, not merely slow.
        try await log.waitFor("the broker's certificate is refused") { $0.text.contains("AMQP connection lost") }
        #expect(!broker.isReady)
        declared.cancel()
        await broker.shutdown()
        _ = await run.result

        // With the right CA the same URL connects.
        configuration.caFile = Self.caFile
        let trusted = RabbitMQBroker(configuration: configuration, logger: MercatoSystem.quietLogger)
        try await trusted.withRunning {
            try await trusted.declare(Topology(queues: [.init(name: uniqueName("tls"), durable: false)]))
        }
    }

    @Test func aDatabaseWhoseCertificateIsNotFromTheTrustedCAIsRefused() async throws {
        var components = try #require(URLComponents(string: try Integration.postgresURL() + "/mercato_test"))
        components.host = "localhost"
        components.queryItems = [
            URLQueryItem(name: "sslmode", value: "verify-full"),
            URLQueryItem(name: "sslrootcert", value: Self.otherCAFile),
        ]
        var configuration = try PostgresClient.Configuration(url: components.string!)
        configuration.acquireTimeout = .seconds(3)
        let refused = PostgresClient(configuration: configuration, logger: MercatoSystem.quietLogger)
        await #expect { _ = try await refused.query("SELECT 1") } throws: {
            "\($0)".contains("certificate") || ($0 as? PostgresError)?.code == .poolTimeout
        }
        await refused.shutdown()

        components.queryItems = [
            URLQueryItem(name: "sslmode", value: "verify-full"), URLQueryItem(name: "sslrootcert", value: Self.caFile),
        ]
        let trusted = PostgresClient(
            configuration: try .init(url: components.string!), logger: MercatoSystem.quietLogger)
        let ssl = try await trusted.query("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        #expect(try ssl[0].decode(Bool.self, at: 0))
        await trusted.shutdown()
    }
}
