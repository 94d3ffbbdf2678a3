/// One numbered schema change. A service lists its migrations in order; each runs once per
/// database and is recorded in `schema_migrations`.
public struct PostgresMigration: Sendable, Hashable {
    /// Position in the history, from 1; never reused or renumbered.
    public var version: Int
    /// What it does, recorded with it.
    public var name: String
    /// The SQL; may hold several statements.
    public var sql: String

    /// Creates a migration.
    public init(version: Int, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
    }
}
