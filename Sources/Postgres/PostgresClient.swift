import Foundation
import Locking
public import Logging

/// A pool of PostgreSQL connections with parameterized queries, transactions, migrations
/// and `LISTEN`/`NOTIFY`.
///
/// Connections are opened on demand up to ``Configuration/poolSize`` and checked before
/// reuse, so after a database restart the pool replaces dead sessions by itself; a statement
/// that was under way when the server went away fails with a transient error
/// (``PostgresError/isTransient``) for the caller to retry.
public final class PostgresClient: Sendable {
    /// How transactions see each other's writes.
    public enum IsolationLevel: String, Sendable {
        case readCommitted = "READ COMMITTED"
        case repeatableRead = "REPEATABLE READ"
        case serializable = "SERIALIZABLE"
    }

    /// A caller waiting for a connection: resumed with what it is handed, or failed at its
    /// deadline or at shutdown.
    private typealias Waiter = CheckedContinuation<PoolHandover<PostgresConnection>, any Error>
    private typealias PoolState = ConnectionPoolState<PostgresConnection, Waiter>

    /// The configuration the client was created with.
    public let configuration: Configuration
    let logger: Logger
    private let state: Locked<PoolState>
    let hub: NotificationHub
    /// What the pool's statements have shown about the server; read by readiness probes.
    public let health = DatabaseHealth()

    /// Creates a client; connections open on first use.
    public init(configuration: Configuration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        self.hub = NotificationHub(remoteInterval: configuration.notifyInterval)
        self.state = Locked(PoolState(capacity: configuration.poolSize))
    }

    // MARK: - Using connections

    /// Runs `body` with a connection of the pool to itself.
    ///
    /// `body` runs on the connection's own thread (a task executor preference): its
    /// statements then need no hop from Swift's cooperative pool to that thread and back,
    /// which under load cost more than the statements themselves (two thread wake-ups per
    /// statement). Work that does not touch the connection should not go in `body`.
    public func withConnection<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        let connection = try await acquire()
        do {
            let result = try await withTaskExecutorPreference(connection.executor) { try await body(connection) }
            await release(connection)
            return result
        } catch {
            await release(connection)
            throw error
        }
    }

    /// Runs `body` in a transaction: committed when it returns, rolled back when it throws.
    @discardableResult
    public func transaction<T: Sendable>(
        isolation: IsolationLevel = .readCommitted, _ body: (PostgresConnection) async throws -> T
    ) async throws -> T {
        try await withConnection { connection in
            try await connection.begin(isolation)
            do {
                let result = try await body(connection)
                try await connection.commit()
                return result
            } catch {
                // If the connection broke, the server rolls back by itself.
                await connection.rollback()
                throw error
            }
        }
    }

    /// Runs one statement on a pooled connection and returns its rows.
    @discardableResult
    public func query(_ sql: String, _ bindings: any PostgresEncodable...) async throws -> PostgresRows {
        try await withConnection { try await $0.query(sql, bindings) }
    }

    /// Runs one statement and returns how many rows it changed.
    @discardableResult
    public func execute(_ sql: String, _ bindings: any PostgresEncodable...) async throws -> Int {
        try await withConnection { try await $0.query(sql, bindings).affectedRows }
    }

    /// Sends a notification on `channel` with `payload` through the server, unthrottled;
    /// ``PostgresConnection/notify(_:)`` is the cheap one for "something changed".
    public func notify(_ channel: String, payload: String = "") async throws {
        try await query("SELECT pg_notify($1, $2)", channel, payload)
    }

    /// How the pool is used right now: for metrics.
    public var statistics: PoolStatistics {
        state.withLock {
            PoolStatistics(idle: $0.idle.count, inUse: $0.open - $0.idle.count, waiting: $0.waiters.count)
        }
    }

    /// A snapshot of the pool.
    public struct PoolStatistics: Sendable {
        /// Open connections nobody is using.
        public var idle: Int
        /// Connections handed out (or being opened).
        public var inUse: Int
        /// Callers waiting for a connection.
        public var waiting: Int
    }

    /// Runs `SELECT 1` unless a statement succeeded within `interval`, so ``health`` stays
    /// fresh while the service is idle. Its outcome is recorded in ``health``; a busy pool
    /// makes it wait like any caller, which is why readiness reads ``health`` and never
    /// waits for this.
    public func probe(ifIdleFor interval: Duration) async {
        if let last = health.lastSuccess, ContinuousClock.now - last < interval { return }
        _ = try? await query("SELECT 1")
    }

    /// Closes idle connections and refuses new work; connections in use close when returned.
    public func shutdown() async {
        let (idle, waiters) = state.withLock { $0.shutDown() }
        for waiter in waiters { waiter.resume(throwing: PostgresError(.shutdown, "the client was shut down")) }
        for connection in idle { await connection.close() }
    }

    // MARK: - The pool

    private func acquire() async throws -> PostgresConnection {
        let deadline = ContinuousClock.now + configuration.acquireTimeout
        while true {
            switch try state.withLock({ state throws(PostgresError) in try state.acquire() }) {
            case .reuse(let connection):
                if await connection.isReusable() { return connection }
                await discard(connection)
            case .create:
                return try await openConnection()
            case .wait:
                switch try await waitForRelease(until: deadline) {
                case .connection(let connection):
                    if await connection.isReusable() { return connection }
                    await discard(connection)
                case .slot:
                    return try await openConnection()
                }
            }
        }
    }

    /// Opens a connection in a slot reserved for it; a failure frees the slot.
    private func openConnection() async throws -> PostgresConnection {
        let connection = PostgresConnection(parameters: configuration.connectionParameters, hub: hub, health: health)
        do {
            try await connection.open()
            return connection
        } catch {
            await discard(connection)
            throw error
        }
    }

    private func waitForRelease(until deadline: ContinuousClock.Instant) async throws -> PoolHandover<
        PostgresConnection
    > {
        try await withCheckedThrowingContinuation { continuation in
            do {
                switch try state.withLock({ state throws(PostgresError) in
                    try state.enqueue(continuation, deadline: deadline)
                }) {
                case .ready(let handover): continuation.resume(returning: handover)
                case .queued(let startTimer): if startTimer { Task { await self.timeOutWaiters() } }
                }
            } catch {
                continuation.resume(throwing: error)
            }
        }
    }

    /// Fails waiters whose deadline passed, sleeping until the earliest one, while there are
    /// any. One timer for the pool rather than one per waiter: a cancelled `Task.sleep` keeps
    /// its timer until the deadline, and a busy pool waited thousands of times a second.
    private func timeOutWaiters() async {
        while true {
            let now = ContinuousClock.now
            let (expired, next) = state.withLock { $0.expire(at: now) }
            for waiter in expired {
                waiter.resume(
                    throwing: PostgresError(
                        .poolTimeout, "no database connection became free within \(configuration.acquireTimeout)"))
            }
            guard let next else { return }
            try? await Task.sleep(until: next)
        }
    }

    private func release(_ connection: PostgresConnection) async {
        // A connection left inside a transaction (a caller that threw between BEGIN and
        // COMMIT without rolling back) is rolled back before anyone else gets it.
        if await connection.isInTransaction {
            _ = try? await connection.execute("ROLLBACK")
        }
        guard await connection.isReusable() else {
            await discard(connection)
            return
        }
        switch state.withLock({ $0.release(connection) }) {
        case .handOver(let waiter): waiter.resume(returning: .connection(connection))
        case .idle: break
        case .close: await connection.close()
        }
    }

    /// Closes a broken connection; its slot goes to a waiter, who opens a fresh one in it.
    private func discard(_ connection: PostgresConnection) async {
        await connection.close()
        state.withLock { $0.discard() }?.resume(returning: .slot)
    }
}
