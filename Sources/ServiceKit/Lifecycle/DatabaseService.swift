public import Logging
public import Postgres
public import ServiceLifecycle

/// Owns the PostgreSQL client for the service's lifetime: applies the migrations (retrying
/// with backoff until the database answers), runs `afterMigrations` (seeding), marks the
/// database ready, keeps the client's `DatabaseHealth` fresh while the pool is idle (a
/// `SELECT 1` when nothing succeeded for `probeInterval`), and closes the pool at shutdown,
/// after the services that use it.
public struct DatabaseService: Service {
    private let client: PostgresClient
    private let migrations: [PostgresMigration]
    private let readiness: Readiness
    private let logger: Logger
    private let afterMigrations: @Sendable (PostgresClient) async throws -> Void
    /// How often the idle pool's health is refreshed. 1 s.
    static let probeInterval: Duration = .seconds(1)

    /// Creates the service.
    public init(
        client: PostgresClient, migrations: [PostgresMigration], readiness: Readiness, logger: Logger,
        afterMigrations: @escaping @Sendable (PostgresClient) async throws -> Void = { _ in }
    ) {
        self.client = client
        self.migrations = migrations
        self.readiness = readiness
        self.logger = logger
        self.afterMigrations = afterMigrations
        readiness.require(Readiness.database)
    }

    public func run() async throws {
        let client = self.client
        await untilItSucceeds("database", logger: logger) {
            try await client.migrate(migrations, logger: logger)
            try await afterMigrations(client)
            readiness.markUp(Readiness.database)
            logger.info("database ready")
        }
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await client.probe(ifIdleFor: Self.probeInterval)
                try? await Task.sleep(for: Self.probeInterval)
            }
        }
        await client.shutdown()
    }
}
