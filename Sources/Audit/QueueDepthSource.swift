/// How many messages each of a broker's queues holds (ready, or delivered and not yet
/// acknowledged): how the audit tells events on their way from events lost. The CLI asks
/// RabbitMQ's management API; tests may ask the same.
public protocol QueueDepthSource: Sendable {
    /// Every queue's messages, by queue name.
    func depths() async throws -> [String: Int]
}
