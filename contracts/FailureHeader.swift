/// The headers a consumer sets on a message it moves out of its queue — into a delay queue
/// to be retried, or into the dead-letter queue — and that `mercato dlq` reads back.
public enum FailureHeader {
    /// Why the message left its queue, at most 1,000 characters.
    public static let error = "x-mercato-error"
    /// The service whose consumer moved it.
    public static let service = "x-mercato-service"
    /// The queue it was consumed from.
    public static let queue = "x-mercato-queue"
    /// When it was moved (RFC 3339).
    public static let failedAt = "x-mercato-failed-at"
    /// Which attempt a delivery is: absent on the first delivery, 2 on the message a delay
    /// queue returns after the first failure, 3 after the second, ….
    public static let attempt = "x-mercato-attempt"
    /// On a dead letter: how many attempts were made before it was given up (1 for a message
    /// dead-lettered at once: malformed or poison).
    public static let attemptsMade = "x-mercato-attempts-made"
    /// The exchange it was first published to, kept through retries and replays: for the
    /// operator to read. A replay never goes there — it sends a dead letter back to the queue
    /// it came from (``DeadLetterReplay``) — as anyone who can write a dead letter can write
    /// this header too.
    public static let originalExchange = "x-original-exchange"
    /// The routing key it was first published with.
    public static let originalRoutingKey = "x-original-routing-key"
    /// The broker user that first published it (its `user_id`), kept through retries and
    /// replays, which are published by the consumer's and the operator's own users. Believed
    /// only from those users: the consumer overwrites it on every message it moves, and a
    /// replay keeps it only from a dead letter the queue's own consumer wrote
    /// (``DeadLetterReplay``).
    public static let producer = "x-mercato-producer"
}
