import Logging

/// The publishing connection's work channel: every message is published mandatory, in
/// confirm mode, and its caller waits for the broker's confirm (``PublisherConfirms`` keeps
/// the books). Messages still unconfirmed when a connection is lost are sent again on the
/// next one, and nacked ones again after a delay, until the publish timeout.
final class PublisherChannel: WorkChannel {
    /// A batch's first 512 messages are written before the confirms are read.
    static let writesBetweenReads = 512

    let role = "publisher"
    var metadata: Logger.Metadata { ["amqp.role": "publisher"] }
    private(set) var confirms = PublisherConfirms()
    /// Grows whenever the channel is closed under us (by the broker, or with the connection):
    /// a batch being written stops there, as its remaining messages were failed or go again.
    private var channelEpoch = 0
    private let logger: Logger

    /// Creates the channel; `logger` reports a channel closed by the broker.
    init(logger: Logger) {
        var logger = logger
        logger[metadataKey: "amqp.role"] = "publisher"
        self.logger = logger
    }

    func open(_ link: WorkLink) throws {
        try link.operations.enableConfirms(on: link.channel)
        try sendAgain(link, now: .now)
    }

    /// Books `messages`, which ``send(_:_:)`` writes once connected; `continuation` resumes
    /// when every one is confirmed, or failed.
    func enqueue(
        _ messages: [OutboundMessage], deadline: ContinuousClock.Instant,
        continuation: CheckedContinuation<Void, any Error>
    ) -> PublisherConfirms.RequestID {
        confirms.enqueue(messages, deadline: deadline, continuation: continuation)
    }

    /// Writes the request's messages that are due, reading confirms between long stretches.
    func send(_ request: PublisherConfirms.RequestID, _ link: WorkLink, now: ContinuousClock.Instant = .now) throws {
        var written = 0
        let epoch = channelEpoch
        for (_, message) in confirms.assignTags(to: request, now: now) {
            // A confirm read meanwhile said the channel closed: what is left of this batch was
            // failed with what was in flight, and must not go out on the new channel under
            // tags the books no longer hold.
            guard epoch == channelEpoch else { return }
            try link.operations.publish(message, mandatory: true, on: link.channel)
            written += 1
            if written % Self.writesBetweenReads == 0 {
                try link.drainEvents()
            }
        }
    }

    func handle(_ event: AMQPEvent, _ link: WorkLink) throws {
        switch event {
        case .ack(_, let tag, let multiple):
            confirms.confirm(upTo: tag, multiple: multiple, accepted: true)
        case .nack(_, let tag, let multiple):
            confirms.confirm(upTo: tag, multiple: multiple, accepted: false)
        case .returned(_, let replyCode, let replyText, let exchange, let routingKey, let properties):
            confirms.markReturned(
                messageID: properties.messageID, exchange: exchange, routingKey: routingKey,
                reason: "\(replyText) (\(replyCode)): no queue is bound to \(exchange) for \(routingKey)")
        case .channelClosed(_, let replyCode, let replyText):
            // Whatever was in flight on the channel has no confirm coming: fail it, and carry
            // on with a fresh channel.
            logger.warning("publisher channel closed by the broker", metadata: ["error.message": "\(replyText)"])
            channelEpoch += 1
            confirms.failInFlight(BrokerError(.channelClosed, replyText, replyCode: replyCode))
            try link.operations.openChannel(link.channel)
            try open(link)
        case .consumerCancelled:
            // Never sent to a connection without consumers; if it is, start afresh.
            throw BrokerError(.channelClosed, "the broker cancelled a consumer of the publishing connection")
        case .delivery, .connectionClosed, .blocked, .unblocked, .ignored:
            break
        }
    }

    func endTurn(_ link: WorkLink?, now: ContinuousClock.Instant) throws {
        confirms.expire(now: now)
        if let link, confirms.nackRetryDue(now: now) {
            logger.debug("sending nacked messages again", metadata: ["amqp.nacks": "\(confirms.nackCount)"])
            try sendAgain(link, now: now)
        }
    }

    var nextDeadline: ContinuousClock.Instant? { confirms.nextNackRetry }

    func willDisconnect(_ operations: any AMQPChannelOperations, channel: UInt16, graceful: Bool) {}

    func connectionLost(generation: UInt64) {
        channelEpoch += 1
        confirms.connectionLost()
    }

    func finish(_ error: BrokerError) {
        confirms.failAll(error)
    }

    private func sendAgain(_ link: WorkLink, now: ContinuousClock.Instant) throws {
        for request in confirms.requestsToSend(now: now) {
            try send(request, link, now: now)
        }
    }
}

extension RabbitMQConnection where Work == PublisherChannel {
    /// Publishes `messages` and waits for all their confirms; see ``Broker/publish(_:)``.
    /// Unconfirmed messages are sent again after a reconnection, until the publish timeout.
    func publish(_ messages: [OutboundMessage]) async throws {
        guard !messages.isEmpty else { return }
        if machine.isClosing { throw BrokerError(.shutdown, "the broker connection was closed") }
        let deadline = ContinuousClock.now + configuration.publishTimeout
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let request = work.enqueue(messages, deadline: deadline, continuation: continuation)
            guard let link = currentLink() else { return }
            do {
                try work.send(request, link)
            } catch {
                fail(error)
            }
        }
    }
}
