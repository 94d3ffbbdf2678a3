public import Logging

extension PostgresClient {
    /// Applies the migrations not applied yet, in version order, in one transaction, and
    /// returns the versions it applied.
    ///
    /// An advisory lock serializes concurrent callers (replicas starting together), so each
    /// migration runs exactly once. A migration whose recorded name differs from the given
    /// one means the history diverged, and nothing is applied.
    @discardableResult
    public func migrate(_ migrations: [PostgresMigration], logger: Logger) async throws -> [Int] {
        let sorted = migrations.sorted { $0.version < $1.version }
        guard Set(sorted.map(\.version)).count == sorted.count, sorted.allSatisfy({ $0.version > 0 }) else {
            throw PostgresError(.invalidConfiguration, "migration versions must be positive and unique")
        }
        return try await transaction { connection in
            // Any constant works as long as every Mercato service uses the same one.
            try await connection.query("SELECT pg_advisory_xact_lock(7263535)")
            try await connection.executeScript(
                """
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version integer PRIMARY KEY,
                    name text NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now()
                )
                """)
            var applied: [Int: String] = [:]
            for row in try await connection.query("SELECT version, name FROM schema_migrations") {
                applied[try row.decode(Int.self, at: 0)] = try row.decode(String.self, at: 1)
            }
            var ran: [Int] = []
            for migration in sorted {
                if let name = applied[migration.version] {
                    guard name == migration.name else {
                        throw PostgresError(
                            .invalidConfiguration,
                            "migration \(migration.version) was applied as '\(name)' but is now '\(migration.name)'")
                    }
                    continue
                }
                try await connection.executeScript(migration.sql)
                try await connection.query(
                    "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", migration.version, migration.name)
                logger.info(
                    "applied migration",
                    metadata: [
                        "db.migration.version": "\(migration.version)", "db.migration.name": "\(migration.name)",
                    ])
                ran.append(migration.version)
            }
            return ran
        }
    }
}
