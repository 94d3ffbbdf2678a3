import Contracts
@testable import CustomerService
import Foundation
import Logging
import Postgres
import ServiceKit
import Testing

/// The PostgreSQL repository's counting, on a database of its own: the in-memory repository
/// of the other tests cannot show what the SQL does with a batch holding one event twice.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["MERCATO_POSTGRES_URL"] != nil, "needs MERCATO_POSTGRES_URL: run scripts/test"))
struct PostgresCustomerRepositoryTests {
    @Test func countsAnEventDeliveredTwiceInOneBatchOnce() async throws {
        let base = ProcessInfo.processInfo.environment["MERCATO_POSTGRES_URL"]!
        var logger = Logger(label: "tests")
        logger.logLevel = .error
        let name = "customers_\(UUID().uuidString.prefix(8).lowercased())"
        let admin = PostgresClient(configuration: try .init(url: base + "/postgres"), logger: logger)
        try await admin.query("CREATE DATABASE \(name)")
        await admin.shutdown()
        let client = PostgresClient(configuration: try .init(url: "\(base)/\(name)"), logger: logger)
        _ = try await client.migrate(MessagingSchema.migrations + CustomerMigrations.all, logger: logger)
        let repository = PostgresCustomerRepository(client: client, source: "/tests", appID: "tests")

        let id = UUID()
        _ = try await repository.create(NewCustomer(name: "A", email: "a@example.com", address: "x"), id: id, at: Date(), traceparent: nil)
        let handler = OrderCountingHandler(repository: repository)
        let tests = CustomerServiceTests()
        let first = try tests.orderCreated(for: id)
        let second = try tests.orderCreated(for: id)
        try await handler.apply([first, first, second, first])  // a republished copy beside its original
        try await handler.apply([second])  // redelivered
        #expect(try await repository.customer(id: id)?.ordersCount == 2)
        await client.shutdown()
    }
}
