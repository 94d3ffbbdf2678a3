import Foundation
import IOThread

/// One PostgreSQL session, confined to its own thread.
///
/// libpq's calls block, so the actor runs on a dedicated `IOThreadExecutor` instead of
/// Swift's cooperative pool; awaiting one of its methods parks the caller, not a pool thread.
/// Statements with parameters are prepared once per connection and reused.
public actor PostgresConnection {
    nonisolated let executor: IOThreadExecutor
    /// The connection's thread.
    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    /// Statements kept prepared per connection; beyond this, statements run unprepared so a
    /// caller that builds SQL dynamically cannot grow the cache without bound.
    private static let preparedStatementLimit = 256

    private let parameters: [(String, String)]
    private var handle: PGConnectionHandle?
    private var prepared: [String: String] = [:]
    private let hub: NotificationHub?
    /// Where the outcome of every statement is recorded, for readiness.
    private let health: DatabaseHealth?
    /// Channels to deliver to local listeners when the open transaction commits.
    private var notifyOnCommit: Set<String> = []
    /// Channels the open transaction sent a `NOTIFY` on.
    private var notifiedRemotely: Set<String> = []
    private var inTransaction = false

    init(parameters: [(String, String)], hub: NotificationHub? = nil, health: DatabaseHealth? = nil) {
        self.parameters = parameters
        self.hub = hub
        self.health = health
        self.executor = IOThreadExecutor(name: "postgres")
    }

    /// Connects; throws ``PostgresError/Code/connectionFailed``.
    func open() throws(PostgresError) {
        do {
            handle = try PGConnectionHandle(parameters: parameters)
            health?.succeeded()
        } catch {
            health?.failed()
            throw error
        }
    }

    /// Runs `sql` with `bindings` as `$1, $2, …` and returns its rows.
    @discardableResult
    public func query(_ sql: String, _ bindings: [any PostgresEncodable]) throws(PostgresError) -> PostgresRows {
        do {
            let rows = try run(sql, bindings)
            health?.succeeded()
            return rows
        } catch {
            // A refused statement still shows a working server; only a broken link does not.
            if error.code == .connectionLost || error.code == .connectionFailed {
                health?.failed()
            } else {
                health?.succeeded()
            }
            throw error
        }
    }

    private func run(_ sql: String, _ bindings: [any PostgresEncodable]) throws(PostgresError) -> PostgresRows {
        let handle = try liveHandle()
        let values = bindings.map(\.postgresText)
        if values.isEmpty {
            return try handle.execute(sql, parameters: [])
        }
        if let name = prepared[sql] {
            return try handle.executePrepared(name: name, parameters: values)
        }
        guard prepared.count < Self.preparedStatementLimit else {
            return try handle.execute(sql, parameters: values)
        }
        let name = "mercato_\(prepared.count + 1)"
        try handle.prepare(name: name, sql: sql, parameterCount: values.count)
        prepared[sql] = name
        return try handle.executePrepared(name: name, parameters: values)
    }

    /// Runs `sql` with `bindings` as `$1, $2, …` and returns its rows.
    @discardableResult
    public func query(_ sql: String, _ bindings: any PostgresEncodable...) throws(PostgresError) -> PostgresRows {
        try query(sql, bindings)
    }

    /// Runs `sql` and returns how many rows it inserted, updated or deleted.
    @discardableResult
    public func execute(_ sql: String, _ bindings: any PostgresEncodable...) throws(PostgresError) -> Int {
        try query(sql, bindings).affectedRows
    }

    /// Runs SQL text that may hold several statements and takes no parameters (migrations).
    public func executeScript(_ sql: String) throws(PostgresError) {
        try liveHandle().executeScript(sql)
    }

    /// Whether the connection can be handed out again: connected, not inside a transaction,
    /// and not closed by the server while it sat idle (a restart sends a goodbye that only
    /// reading reveals).
    func isReusable() -> Bool {
        guard let handle, handle.isHealthy, !handle.hasUnreadInput, !handle.isInTransaction else { return false }
        return true
    }

    /// Whether a transaction is open on this connection.
    var isInTransaction: Bool { handle?.isInTransaction ?? false }

    /// Closes the session and lets its thread end.
    func close() {
        handle?.close()
        handle = nil
        executor.shutdown()
    }

    // MARK: - Transactions

    func begin(_ isolation: PostgresClient.IsolationLevel) throws(PostgresError) {
        try query("BEGIN ISOLATION LEVEL \(isolation.rawValue)", [])
        inTransaction = true
        notifyOnCommit.removeAll()
        notifiedRemotely.removeAll()
    }

    func commit() throws(PostgresError) {
        defer {
            inTransaction = false
            notifyOnCommit.removeAll()
            notifiedRemotely.removeAll()
        }
        try query("COMMIT", [])
        for channel in notifiedRemotely { hub?.remoteNotificationDelivered(channel) }
        for channel in notifyOnCommit { hub?.deliverLocally(channel) }
    }

    func rollback() {
        inTransaction = false
        notifyOnCommit.removeAll()
        notifiedRemotely.removeAll()
        _ = try? query("ROLLBACK", [])
    }

    // MARK: - Notifications

    /// Notifies listeners of `channel` once the current transaction commits (at once outside
    /// one): listeners of this connection's client in this process directly, other
    /// processes through `NOTIFY`, at most once per channel per
    /// ``PostgresClient/Configuration/notifyInterval``.
    public func notify(_ channel: String) throws(PostgresError) {
        if !notifiedRemotely.contains(channel), hub?.isRemoteNotificationDue(channel) ?? true {
            try query("SELECT pg_notify($1, '')", [channel])
            if inTransaction { notifiedRemotely.insert(channel) } else { hub?.remoteNotificationDelivered(channel) }
        }
        if inTransaction {
            notifyOnCommit.insert(channel)
        } else {
            hub?.deliverLocally(channel)
        }
    }

    /// Starts listening on `channel` (a plain identifier).
    func listen(_ channel: String) throws(PostgresError) {
        try executeScript("LISTEN \(try Self.quotedIdentifier(channel))")
    }

    /// Waits up to `timeout` for notifications and returns those received (maybe none).
    /// Throws ``PostgresError/Code/connectionLost`` if the connection broke.
    func waitForNotifications(timeout: Duration) async throws(PostgresError) -> [PostgresNotification] {
        let handle = try liveHandle()
        let pending = handle.drainNotifications()
        if !pending.isEmpty { return pending }
        _ = await executor.waitUntilReadable(handle.socketDescriptor, timeout: timeout)
        guard handle.consumeInput() else {
            throw PostgresError(.connectionLost, "the listening connection was closed")
        }
        return handle.drainNotifications()
    }

    // MARK: - Helpers

    private func liveHandle() throws(PostgresError) -> PGConnectionHandle {
        guard let handle else { throw PostgresError(.connectionLost, "the connection is closed") }
        return handle
    }

    /// `name` as a double-quoted identifier; only letters, digits and `_` are accepted.
    static func quotedIdentifier(_ name: String) throws(PostgresError) -> String {
        guard !name.isEmpty, name.count <= 63,
            name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") })
        else {
            throw PostgresError(.invalidConfiguration, "not a plain identifier: \(name.prefix(70))")
        }
        return "\"\(name)\""
    }
}
