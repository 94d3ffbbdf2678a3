/// How consumers retry an event whose handler failed: the event waits in a delay queue of its
/// consumer queue and comes back by itself, so the consumer never blocks on it.
///
/// A delay queue `<queue>.retry.<N>s` holds messages for N seconds (`x-message-ttl`), then
/// dead-letters them through the default exchange back to `<queue>`. The consumer puts a
/// message into it through its service's own ``ExchangeName/failures(of:)``, by the delay
/// queue's name: services may not write to the default exchange. Each tier has one fixed
/// TTL, so a long delay never holds up a short one (RabbitMQ expires messages from the head of
/// a queue only). The attempt count travels in the ``FailureHeader/attempt`` header.
public enum RetryPolicy {
    /// Delays of the tiers, in milliseconds: attempt 1 waits in the first, attempt 2 in the
    /// second, later attempts in the last.
    public static let delaysMilliseconds = [1_000, 5_000, 30_000]

    /// Attempts before an event goes to the dead-letter queue.
    public static let maxAttempts = 5

    /// The delay queue for the retry after `attempt` failed attempts (1-based).
    public static func delayQueue(of queue: String, afterAttempt attempt: Int) -> String {
        QueueName.retry(
            of: queue, delayMilliseconds: delaysMilliseconds[min(max(attempt, 1), delaysMilliseconds.count) - 1])
    }
}
