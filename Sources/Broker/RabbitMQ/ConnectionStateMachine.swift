/// The life of a ``RabbitMQConnection`` apart from any I/O: which state it is in, which node
/// it uses, which connection generation is live, and what to do after each step. The actor
/// does what the machine answers, so every transition is unit-tested without a broker (as
/// swift-kafka-client's `KafkaConsumer.StateMachine` and postgres-nio's connection state
/// machines are).
///
/// ```
/// idle ──start──▶ connecting ──connected──▶ connected
///                  ▲      │                    │
///       backoffEnded      └──connectionEnded───┴──▶ waitingToReconnect
///                  └──────────────────────────────────────┘
/// any running state ──close──▶ closing ──runEnded──▶ finished;  idle ──close──▶ finished
/// ```
struct ConnectionStateMachine: Sendable {
    /// Where the connection is in its life.
    enum State: Sendable, Equatable {
        /// Created; ``RabbitMQConnection/run()`` has not started.
        case idle
        /// Opening a connection after `attempt` failed attempts in a row.
        case connecting(attempt: Int)
        /// Connected and serving its work channel.
        case connected
        /// Lost or failed to open a connection; sleeping before attempt number `attempt`.
        case waitingToReconnect(attempt: Int)
        /// ``RabbitMQConnection/close()`` was called while running: `run()` is winding down.
        case closing
        /// Over: `run()` has ended, or was never started before the close.
        case finished
    }

    /// What to do after ``start()`` or ``backoffEnded()``.
    enum ConnectAction: Sendable, Equatable {
        /// Open a connection to ``node``.
        case connect
        /// Do not: the connection is running already, closing or closed.
        case stop
    }

    /// What to do once a connection has ended (or failed to open).
    enum ReconnectAction: Sendable, Equatable {
        /// Sleep this long, then call ``backoffEnded()``.
        case reconnect(after: Duration)
        /// Stop: the connection is closing.
        case stop
    }

    /// What ``RabbitMQConnection/close()`` must do.
    enum CloseAction: Sendable, Equatable {
        /// Nothing ever ran: fail what waits and end at once.
        case finishNow
        /// Wake `run()` and wait for it to end.
        case waitForRun
        /// It is over already.
        case none
    }

    /// What a caller that needs the connection (a declaration, a publish) must do.
    enum WaitAction: Sendable, Equatable {
        /// Go ahead: it is connected.
        case proceed
        /// Wait for it to connect.
        case wait
        /// Give up: it is closing or closed.
        case fail
    }

    private(set) var state = State.idle
    /// The index of the node in use or tried next. It moves to the next node whenever a
    /// connection fails or is lost: a node that died or was cut off is not tried again until
    /// the others have been.
    private(set) var node: Int
    /// Grows by one whenever a connection ends; a delivery remembers its generation, so
    /// settling one from a previous connection is refused instead of acknowledging the wrong
    /// message.
    private(set) var generation: UInt64 = 0
    private let nodeCount: Int
    private let initialDelay: Duration
    private let maximumDelay: Duration

    /// Creates the machine for `nodeCount` nodes, starting at `firstNode` (chosen at random by
    /// the connection, so the connections of many replicas spread over a cluster), with the
    /// reconnection backoff between `initialDelay` and `maximumDelay`.
    init(nodeCount: Int, firstNode: Int, initialDelay: Duration, maximumDelay: Duration) {
        precondition(nodeCount > 0 && (0..<nodeCount).contains(firstNode))
        self.nodeCount = nodeCount
        self.node = firstNode
        self.initialDelay = initialDelay
        self.maximumDelay = maximumDelay
    }

    /// Whether `close()` has been called (or the run is over): nothing new may start.
    var isClosing: Bool {
        switch state {
        case .closing, .finished: true
        case .idle, .connecting, .connected, .waitingToReconnect: false
        }
    }

    /// Whether a connection is up.
    var isConnected: Bool { state == .connected }

    /// What a caller needing the connection must do.
    var waitAction: WaitAction {
        switch state {
        case .connected: .proceed
        case .idle, .connecting, .waitingToReconnect: .wait
        case .closing, .finished: .fail
        }
    }

    /// `run()` starts: connect, unless it ran or was closed already.
    mutating func start() -> ConnectAction {
        guard state == .idle else { return .stop }
        state = .connecting(attempt: 0)
        return .connect
    }

    /// The connection opened and its work channel is set up.
    mutating func connected() {
        guard case .connecting = state else { return }
        state = .connected
    }

    /// The connection ended, or failed to open: the generation moves on, the next node is
    /// tried after a backoff that doubles with each failed attempt in a row, up to the
    /// maximum, scaled by `jitter` (0.5...1.0 in production; it spreads the reconnections of
    /// many services after a broker restart).
    mutating func connectionEnded(jitter: Double) -> ReconnectAction {
        generation += 1
        let attempt: Int
        switch state {
        case .connecting(let failed): attempt = failed
        case .connected: attempt = 0
        case .closing, .finished: return .stop
        case .idle, .waitingToReconnect: preconditionFailure("no connection to end in state \(state)")
        }
        node = (node + 1) % nodeCount
        state = .waitingToReconnect(attempt: attempt + 1)
        let exponential = initialDelay * Int(1 << min(attempt, 20))
        return .reconnect(after: min(exponential, maximumDelay) * jitter)
    }

    /// The backoff is over: connect again, unless the connection is closing.
    mutating func backoffEnded() -> ConnectAction {
        guard case .waitingToReconnect(let attempt) = state else { return .stop }
        state = .connecting(attempt: attempt)
        return .connect
    }

    /// `close()` was called.
    mutating func close() -> CloseAction {
        switch state {
        case .idle:
            state = .finished
            return .finishNow
        case .connecting, .connected, .waitingToReconnect, .closing:
            state = .closing
            return .waitForRun
        case .finished:
            return .none
        }
    }

    /// `run()` has ended.
    mutating func runEnded() {
        state = .finished
    }
}
