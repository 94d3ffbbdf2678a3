package import Broker
import Contracts
import Locking

/// How every consumer queue and its dead-letter queue are doing, asked of the broker itself
/// with passive declares (``Broker/inspect(queue:)``): the service needs no management-API
/// credentials, only its own AMQP connection. Answers are kept for ``maxAge`` so a room full
/// of dashboards costs the broker a few passive declares a second, not hundreds.
package final class QueueHealth: Sendable {
    /// One queue's state, or why it is unknown.
    struct Queue: Encodable, Sendable, Hashable {
        var name: String
        /// Messages ready for delivery (nil when the broker did not say).
        var messages: Int?
        /// Consumers subscribed.
        var consumers: Int?
        /// Why the figures are missing: `missing` (no such queue) or `unavailable`.
        var error: String?
    }

    /// A consumer queue with its dead-letter queue.
    struct Report: Encodable, Sendable, Hashable {
        var queue: Queue
        var deadLetters: Queue

        enum CodingKeys: String, CodingKey {
            case queue
            case deadLetters = "dead_letters"
        }
    }

    private let broker: any Broker
    private let queues: [String]
    /// How long an answer is reused.
    let maxAge: Duration
    private let cache = Locked<(at: ContinuousClock.Instant, reports: [Report])?>(nil)

    /// Reports on `queues` (by default every consumer queue of Mercato) through `broker`.
    package init(broker: any Broker, queues: [String] = QueueName.consumerQueues, maxAge: Duration = .seconds(1)) {
        self.broker = broker
        self.queues = queues
        self.maxAge = maxAge
    }

    /// Every queue's state, at most ``maxAge`` old.
    func reports() async -> [Report] {
        if let cached = cache.withLock({ $0 }), ContinuousClock.now - cached.at < maxAge { return cached.reports }
        var reports: [Report] = []
        for name in queues {
            reports.append(
                Report(queue: await inspect(name), deadLetters: await inspect(QueueName.deadLetter(of: name))))
        }
        let now = ContinuousClock.now
        cache.withLock { $0 = (now, reports) }
        return reports
    }

    private func inspect(_ name: String) async -> Queue {
        do {
            let status = try await broker.inspect(queue: name)
            return Queue(name: name, messages: status.messageCount, consumers: status.consumerCount)
        } catch let error as BrokerError where error.replyCode == 404 {
            return Queue(name: name, error: "missing")
        } catch {
            return Queue(name: name, error: "unavailable")
        }
    }
}
