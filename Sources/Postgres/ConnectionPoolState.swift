/// The bookkeeping of ``PostgresClient``'s pool: idle connections, open slots and waiting
/// callers, apart from connections' I/O and from continuations, so that a test can drive
/// every interleaving of callers step by step.
///
/// Every method is one atomic step: the client calls each under its lock and acts on the
/// answer (opens, checks or closes a connection, resumes a waiter) after letting go of it.
struct ConnectionPoolState<Connection, Waiter> {
    /// What a caller asking for a connection does next.
    enum Acquisition {
        /// Use this idle connection (after checking that it is still alive).
        case reuse(Connection)
        /// Open a connection: a slot was reserved for it.
        case create
        /// Nothing is free: wait (``enqueue(_:deadline:)``).
        case wait
    }

    /// What a waiter is handed when it is woken.
    typealias Handover = PoolHandover<Connection>

    /// The answer to ``enqueue(_:deadline:)``.
    enum Enqueued {
        /// Queued; `startTimer` says whether the caller must start the task that fails
        /// waiters at their deadlines (one per pool, started by the first waiter).
        case queued(startTimer: Bool)
        /// Something became free between ``acquire()`` and this call: take it now.
        case ready(Handover)
    }

    /// What to do with a connection handed back.
    enum Release {
        /// Give it to this waiter.
        case handOver(Waiter)
        /// It went back into the pool.
        case idle
        /// The pool was shut down: close it.
        case close
    }

    let capacity: Int
    private(set) var idle: [Connection] = []
    /// Connections open or being opened, in use or idle.
    private(set) var open = 0
    private(set) var waiters: [(deadline: ContinuousClock.Instant, waiter: Waiter)] = []
    /// Whether the task that fails waiters at their deadlines is running.
    private(set) var timerRunning = false
    private(set) var isShutDown = false

    init(capacity: Int) {
        self.capacity = capacity
    }

    /// A caller asks for a connection.
    mutating func acquire() throws(PostgresError) -> Acquisition {
        if isShutDown { throw PostgresError(.shutdown, "the client was shut down") }
        if let connection = idle.popLast() { return .reuse(connection) }
        guard open < capacity else { return .wait }
        open += 1
        return .create
    }

    /// A caller that ``acquire()`` told to wait queues itself. It looks again first: a
    /// connection released (or a slot freed) since ``acquire()`` answered went to no waiter,
    /// and a caller that queued anyway would wait for the next release, which may never come
    /// (the last caller's release went into the idle list instead: the lost wake-up that
    /// failed callers with `poolTimeout` after 10 s on an otherwise idle pool).
    mutating func enqueue(_ waiter: Waiter, deadline: ContinuousClock.Instant) throws(PostgresError) -> Enqueued {
        switch try acquire() {
        case .reuse(let connection): return .ready(.connection(connection))
        case .create: return .ready(.slot)
        case .wait:
            waiters.append((deadline, waiter))
            defer { timerRunning = true }
            return .queued(startTimer: !timerRunning)
        }
    }

    /// A caller hands back a healthy connection: the longest waiter gets it, or it goes idle.
    mutating func release(_ connection: Connection) -> Release {
        if isShutDown {
            open -= 1
            return .close
        }
        if !waiters.isEmpty { return .handOver(waiters.removeFirst().waiter) }
        idle.append(connection)
        return .idle
    }

    /// A connection broke (or failed to open) and was closed: its slot goes to the longest
    /// waiter, still reserved (``Handover/slot``), so no newcomer takes it first; with no
    /// waiter it is freed.
    mutating func discard() -> Waiter? {
        guard !waiters.isEmpty else {
            open -= 1
            return nil
        }
        return waiters.removeFirst().waiter
    }

    /// Removes the waiters whose deadline is at or before `now` and says when the next one
    /// falls due; with none left, the timer stops (`next` is nil).
    mutating func expire(at now: ContinuousClock.Instant) -> (expired: [Waiter], next: ContinuousClock.Instant?) {
        let expired = waiters.filter { $0.deadline <= now }.map(\.waiter)
        waiters.removeAll { $0.deadline <= now }
        let next = waiters.map(\.deadline).min()
        if next == nil { timerRunning = false }
        return (expired, next)
    }

    /// Refuses new work from now on; returns the idle connections to close and the waiters to
    /// fail.
    mutating func shutDown() -> (idle: [Connection], waiters: [Waiter]) {
        isShutDown = true
        defer {
            open -= idle.count
            idle.removeAll()
            waiters.removeAll()
        }
        return (idle, waiters.map(\.waiter))
    }
}

/// What a caller waiting in a ``ConnectionPoolState`` is handed when it is woken (outside the
/// state's type, so that the waiter's own type can name it).
enum PoolHandover<Connection> {
    /// A connection someone released.
    case connection(Connection)
    /// A slot someone freed (their connection broke): it is reserved for this waiter, who
    /// opens a connection in it.
    case slot
}
