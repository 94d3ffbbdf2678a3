import Broker
import Contracts
import Foundation
import Logging

/// Where a consumer sends a message it cannot apply now: the queue's dead-letter queue
/// (malformed, poison, or out of attempts) or a delay queue that returns it later
/// (``RetryPolicy``). Either way a copy is published and confirmed before the original may be
/// acknowledged, so the message is never dropped in between; the headers
/// (``FailureHeader``) say why, where it came from and how often it was tried.
///
/// Both go through the queue's service's own ``ExchangeName/failures(of:)``, the only
/// exchange besides its events' one that its broker user may write to: bound to its own
/// delay and dead-letter queues alone, it lets no service's credentials reach another's.
struct FailureRouter: Sendable {
    let queue: String
    let serviceName: String
    let broker: any Broker
    /// The exchange its copies go through: that of the service the queue is named after.
    var exchange: String { ExchangeName.failures(of: QueueName.owner(of: queue)) }
    /// Tells who produced a delivery, recorded on its copies.
    let producers: ProducerPolicy
    let logger: Logger
    /// Wait before the next try to publish the copy while the broker is away.
    let retryDelay: @Sendable (Int) -> Duration

    /// The attempt a delivery is: 1 unless a delay queue returned it.
    static func attempt(of delivery: Delivery) -> Int {
        max(1, Int(delivery.properties.headers[FailureHeader.attempt]?.intValue ?? 1))
    }

    /// Moves `delivery` to the queue's dead-letter queue with `reason`.
    func deadLetter(_ delivery: Delivery, reason: String) async throws {
        var headers = failureHeaders(of: delivery, reason: reason)
        headers[FailureHeader.attemptsMade] = .int(Int64(Self.attempt(of: delivery)))
        try await divert(delivery, routingKey: queue, headers: headers)
    }

    /// Moves `delivery`, whose attempt `attempt` failed with `reason`, to the delay queue of
    /// that attempt; it comes back to the queue as attempt `attempt + 1`. Returns the delay
    /// queue's name.
    func retryLater(_ delivery: Delivery, reason: String, attempt: Int) async throws -> String {
        let delayQueue = RetryPolicy.delayQueue(of: queue, afterAttempt: attempt)
        var headers = failureHeaders(of: delivery, reason: reason)
        headers[FailureHeader.attempt] = .int(Int64(attempt + 1))
        // Into the delay queue by its name; it returns the message here by itself.
        try await divert(delivery, routingKey: delayQueue, headers: headers)
        return delayQueue
    }

    /// The headers saying why a message left its queue, and where it came from in the first
    /// place (kept from the first failure, for the operator to read).
    func failureHeaders(of delivery: Delivery, reason: String) -> [String: HeaderValue] {
        var headers = delivery.properties.headers
        headers[FailureHeader.error] = .string(String(reason.prefix(1000)))
        headers[FailureHeader.service] = .string(serviceName)
        headers[FailureHeader.queue] = .string(queue)
        headers[FailureHeader.failedAt] = .string(EventCoding.formatTimestamp(Date()))
        // Always overwritten: a producer's own claim in this header is never believed.
        headers[FailureHeader.producer] = .string(producers.producer(of: delivery) ?? "")
        if headers[FailureHeader.originalExchange] == nil {
            headers[FailureHeader.originalExchange] = .string(delivery.exchange)
            headers[FailureHeader.originalRoutingKey] = .string(delivery.routingKey)
        }
        return headers
    }

    /// Publishes a copy of `delivery` through ``exchange`` with `routingKey` and `headers`,
    /// waiting for the broker's confirm and retrying while it is away: only then may the
    /// original be acknowledged.
    private func divert(_ delivery: Delivery, routingKey: String, headers: [String: HeaderValue]) async throws {
        var properties = delivery.properties
        properties.persistent = true
        properties.headers = headers
        let message = OutboundMessage(
            exchange: exchange, routingKey: routingKey, properties: properties, body: delivery.body)
        var attempt = 1
        while true {
            do {
                try await broker.publish(message)
                return
            } catch {
                logger.warning(
                    "could not move a message to another queue; retrying",
                    metadata: ["error.message": "\(error)", "amqp.routing_key": "\(routingKey)"])
                try await Task.sleep(for: retryDelay(attempt))
                attempt += 1
            }
        }
    }
}
