/// How long the outbox keeps what it published and the inbox what it received, and how often
/// they are pruned (by the relay, between batches).
public struct OutboxPruning: Sendable, Equatable {
    /// How often pruning runs. Default 300 s (`OUTBOX_PRUNE_INTERVAL_SECONDS`).
    public var interval: Duration = .seconds(300)
    /// Published messages older than this are deleted. Default 1 h
    /// (`OUTBOX_KEEP_PUBLISHED_SECONDS`): long enough to look at what went out.
    public var keepPublished: Duration = .seconds(3600)
    /// Inbox entries older than this are deleted. Default 7 days (`INBOX_KEEP_SECONDS`):
    /// redeliveries come within minutes, so a week is generous.
    public var keepInbox: Duration = .seconds(7 * 24 * 3600)

    /// The defaults.
    public init() {}

    /// Reads the three variables above.
    public init(environment: EnvironmentReader) throws {
        let defaults = OutboxPruning()
        interval = .seconds(
            try environment.int(
                "OUTBOX_PRUNE_INTERVAL_SECONDS", default: Int(defaults.interval.components.seconds), in: 1...86_400))
        keepPublished = .seconds(
            try environment.int(
                "OUTBOX_KEEP_PUBLISHED_SECONDS", default: Int(defaults.keepPublished.components.seconds),
                in: 0...(90 * 86_400)))
        keepInbox = .seconds(
            try environment.int(
                "INBOX_KEEP_SECONDS", default: Int(defaults.keepInbox.components.seconds), in: 3600...(365 * 86_400)))
    }
}
