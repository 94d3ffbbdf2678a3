import Foundation
import Logging
import MercatoTesting
import Postgres
import ServiceKit

/// A database of its own for one test, migrated: the test servers are thrown away whole, so
/// it is never dropped.
enum FreshDatabase {
    static var logger: Logger {
        var logger = Logger(label: "service-integration-tests")
        logger.logLevel = .error
        return logger
    }

    /// A client of a new database holding the outbox, the inbox and `migrations`.
    static func make(_ prefix: String, migrations: [PostgresMigration], poolSize: Int = 4) async throws
        -> PostgresClient
    {
        let base = try Integration.postgresURL()
        let name = uniqueName(prefix, separator: "_")
        let admin = PostgresClient(configuration: try .init(url: base + "/postgres"), logger: logger)
        try await admin.query("CREATE DATABASE \(name)")
        await admin.shutdown()
        var configuration = try PostgresClient.Configuration(url: "\(base)/\(name)")
        configuration.poolSize = poolSize
        let client = PostgresClient(configuration: configuration, logger: logger)
        _ = try await client.migrate(MessagingSchema.migrations + migrations, logger: logger)
        return client
    }

    /// What the outbox holds unpublished, oldest first.
    static func pendingEvents(_ client: PostgresClient) async throws -> [OutboxMessage] {
        try await client.query(
            """
            SELECT id, event_type, exchange, body, traceparent, app_id, created_at
            FROM outbox WHERE published_at IS NULL ORDER BY position
            """
        ).map { row in
            OutboxMessage(
                id: try row.decode(String.self, at: 0), eventType: try row.decode(String.self, at: 1),
                exchange: try row.decode(String.self, at: 2),
                body: Data(try row.decode(String.self, at: 3).utf8), traceparent: try row.decode(String?.self, at: 4),
                createdAt: try row.decode(Date.self, at: 6), appID: try row.decode(String.self, at: 5))
        }
    }
}
