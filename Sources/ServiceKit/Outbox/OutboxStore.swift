/// Where a service keeps the events it has yet to publish.
///
/// ``PostgresOutboxStore`` is the real one; `MemoryOutboxStore` (in the ServiceTesting target) serves unit tests.
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

    /// Deletes what was published more than `age` ago, and inbox entries older than
    /// `inboxAge`.
    func prune(publishedBefore age: Duration, inboxAge: Duration) async throws
}

/// How long a refused outbox message waits before it is tried again: ``first`` after its first
/// refusal, doubling with each refusal after, never more than ``longest``.
public struct OutboxBackoff: Sendable {
    /// The wait after the first refusal. Default 2 s.
    public var first: Duration
    /// The longest wait. Default 300 s.
    public var longest: Duration

    /// Creates a backoff; the defaults are what the services run with (tests of the stores
    /// lengthen it, so that no stall of a slow run lets a backoff pass by itself).
    public init(first: Duration = .seconds(2), longest: Duration = .seconds(300)) {
        self.first = first
        self.longest = longest
    }

    /// The wait after the `refusals`-th refusal (1 for the first), in seconds.
    package func seconds(afterRefusals refusals: Int) -> Double {
        // The exponent is capped: 2^30 times any first wait is past any sensible longest.
        min(longest.timeInterval, first.timeInterval * Double(1 << min(max(refusals - 1, 0), 30)))
    }
}

extension Duration {
    /// The duration in seconds, for `Date` arithmetic and SQL intervals.
    package var timeInterval: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
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
