import Broker
import Foundation
import ServiceLifecycle
import Synchronization

/// Routing, dispatch to consumers, expiry and dead-lettering, as RabbitMQ does them.
extension InMemoryBroker {
    func ensureRunning() throws {
        if isShutDown { throw BrokerError(.shutdown, "the broker was shut down") }
    }

    /// Routes one message; returns why it was not accepted, if it was not.
    func route(_ message: OutboundMessage) -> BrokerError.Failure? {
        let targets: [String]
        if message.exchange.isEmpty {
            targets = queues[message.routingKey] == nil ? [] : [message.routingKey]
        } else {
            guard let exchange = exchanges[message.exchange] else {
                return .init(
                    messageID: message.displayID, code: .channelClosed,
                    reason: "NOT_FOUND - no exchange '\(message.exchange)'")
            }
            var matched: [String] = []
            for binding in bindings where binding.exchange == exchange.name && !matched.contains(binding.queue) {
                let routes: Bool
                switch exchange.kind {
                case .topic: routes = TopicPattern(binding.routingKey).matches(message.routingKey)
                case .direct: routes = binding.routingKey == message.routingKey
                case .fanout: routes = true
                case .headers: routes = false
                }
                if routes { matched.append(binding.queue) }
            }
            targets = matched
        }
        guard !targets.isEmpty else {
            return .init(
                messageID: message.displayID, code: .unroutable,
                reason: "NO_ROUTE (312): no queue is bound to \(message.exchange) for \(message.routingKey)")
        }
        for queue in targets {
            nextSequence += 1
            let sequence = nextSequence
            queues[queue]?.messages.append(StoredMessage(message: message, redelivered: false, sequence: sequence))
            if let ttl = queues[queue]?.declaration.arguments.messageTTL {
                Task { [weak self, clock] in
                    try? await clock.sleep(for: .milliseconds(ttl))
                    await self?.expire(sequence, in: queue)
                }
            }
            dispatch(queue)
        }
        return nil
    }

    /// Hands waiting messages of `queue` to its consumers, round-robin, within prefetch.
    func dispatch(_ queue: String) {
        let ids = consumers.values.filter { $0.consumer.queue == queue }.map(\.consumer.id).sorted()
        guard !ids.isEmpty else { return }
        var progress = true
        while progress, let first = queues[queue]?.messages.first {
            progress = false
            for id in ids {
                guard var state = consumers[id], state.unacked.count < state.consumer.prefetch else { continue }
                queues[queue]?.messages.removeFirst()
                let tag = state.nextTag
                state.nextTag += 1
                state.unacked.append((tag, first))
                consumers[id] = state
                state.consumer.buffer.push(
                    Delivery(
                        queue: queue, exchange: first.message.exchange, routingKey: first.message.routingKey,
                        redelivered: first.redelivered, deliveryTag: tag, properties: first.message.properties,
                        body: first.message.body, acknowledger: Acknowledger(broker: self, consumerID: id),
                        generation: id))
                progress = true
                break
            }
        }
    }

    /// Dead-letters a message that waited in `queue` longer than its TTL (if still waiting).
    func expire(_ sequence: UInt64, in queue: String) {
        guard let index = queues[queue]?.messages.firstIndex(where: { $0.sequence == sequence }),
            let expired = queues[queue]?.messages.remove(at: index)
        else { return }
        deadLetter(expired.message, from: queue, reason: "expired")
    }

    func cancelConsumer(_ id: UInt64) {
        guard let state = consumers.removeValue(forKey: id) else { return }
        state.consumer.buffer.finish()
        let returned = state.unacked.map { StoredMessage(message: $0.message.message, redelivered: true) }
        queues[state.consumer.queue]?.messages.insert(contentsOf: returned, at: 0)
        dispatch(state.consumer.queue)
    }

    fileprivate func settle(_ settlement: Settlement, deliveryTag: UInt64, consumerID: UInt64) throws {
        guard var state = consumers[consumerID] else {
            throw BrokerError(.staleDelivery, "the delivery's consumer is gone; the broker will redeliver it")
        }
        let multiple: Bool
        let requeue: Bool?
        switch settlement {
        case .ack(let all): (multiple, requeue) = (all, nil)
        case .nack(let all, let again): (multiple, requeue) = (all, again)
        case .reject(let again): (multiple, requeue) = (false, again)
        }
        let settled = state.unacked.filter { multiple ? $0.tag <= deliveryTag : $0.tag == deliveryTag }
        guard !settled.isEmpty else {
            throw BrokerError(
                .protocolError, "PRECONDITION_FAILED - unknown delivery tag \(deliveryTag)", replyCode: 406)
        }
        state.unacked.removeAll { multiple ? $0.tag <= deliveryTag : $0.tag == deliveryTag }
        consumers[consumerID] = state
        let queue = state.consumer.queue
        switch requeue {
        case nil:
            break
        case true?:
            let returned = settled.map { StoredMessage(message: $0.message.message, redelivered: true) }
            queues[queue]?.messages.insert(contentsOf: returned, at: 0)
        case false?:
            for entry in settled { deadLetter(entry.message.message, from: queue, reason: "rejected") }
        }
        dispatch(queue)
    }

    /// Moves a rejected message to its queue's dead-letter exchange, as RabbitMQ does, with
    /// an `x-death` entry saying where it came from and why.
    func deadLetter(_ message: OutboundMessage, from queue: String, reason: String) {
        guard let arguments = queues[queue]?.declaration.arguments, let exchange = arguments.deadLetterExchange else {
            return
        }
        var dead = message
        dead.exchange = exchange
        dead.routingKey = arguments.deadLetterRoutingKey ?? message.routingKey
        let death: HeaderValue = .table([
            "queue": .string(queue), "reason": .string(reason), "count": 1,
            "exchange": .string(message.exchange), "routing-keys": .array([.string(message.routingKey)]),
        ])
        var deaths: [HeaderValue] = []
        if case .array(let previous)? = message.properties.headers["x-death"] { deaths = previous }
        dead.properties.headers["x-death"] = .array([death] + deaths)
        _ = route(dead)
    }

    struct Acknowledger: DeliveryAcknowledger {
        let broker: InMemoryBroker
        let consumerID: UInt64

        func settle(_ settlement: Settlement, deliveryTag: UInt64, generation: UInt64) async throws {
            try await broker.settle(settlement, deliveryTag: deliveryTag, consumerID: consumerID)
        }
    }
}
