/// Where a service keeps the events it has yet to publish.
///
/// ``PostgresOutboxStore`` is the real one; ``MemoryOutboxStore`` serves unit tests.
public protocol OutboxStore: Sendable {
    /// Claims up to `limit` messages due for publishing (so that no other relay takes them),
    /// hands them to `publish`, and records its outcome: confirmed messages are marked sent,
    /// refused ones retried later with backoff, and the rest left as they were. Returns how
    /// many messages were claimed.
    func relay(limit: Int, publish: @Sendable ([OutboxMessage]) async -> PublishOutcome) async throws -> Int

    /// Messages not yet published, and the age of the oldest: the relay's backlog.
    func backlog() async throws -> (count: Int, oldestAgeSeconds: Double)

    /// Yields whenever messages may have been added (and once at the start), so the relay
    /// publishes at once instead of at its next poll. One reader.
    func changes() -> any AsyncSequence<Void, Never> & Sendable
}

/// What happened to a batch of outbox messages handed to the broker.
public struct PublishOutcome: Sendable {
    /// Ids the broker confirmed.
    public var confirmed: [String]
    /// Ids it refused (unroutable or nacked), with why: retried later with backoff.
    public var refused: [String: String]
    /// Set when the broker could not be reached or did not answer: the outcome of the
    /// unconfirmed messages is unknown, so they stay as they are and the relay waits.
    public var transientFailure: String?

    /// Creates an outcome.
    public init(confirmed: [String], refused: [String: String] = [:], transientFailure: String? = nil) {
        self.confirmed = confirmed
        self.refused = refused
        self.transientFailure = transientFailure
    }
}
