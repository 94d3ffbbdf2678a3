public import Foundation
public import Messaging

/// How `mercato dlq replay` sends a dead letter back to be consumed again, and when it
/// refuses to.
///
/// A dead letter goes back to the queue it came from and nowhere else: through the default
/// exchange (which the operator may write to and no service may) to the consumer queue the
/// dead-letter queue belongs to — never to an exchange its headers name, since whoever wrote
/// the dead letter wrote those headers too.
///
/// The replay is published as the operator, whom consumers trust to say who produced an
/// event (``FailureHeader/producer``), so it sets that header only to what the broker vouched
/// for:
/// - a dead letter the queue's own consumer wrote — its `user_id` is the owning service's
///   user, the only one that may write to that service's ``ExchangeName/failures(of:)`` — or
///   the operator wrote: the producer recorded there, which the consumer took from the
///   delivery's verified `user_id`, never from a producer's claim;
/// - a dead letter the broker moved out of the queue itself (its latest `x-death` names the
///   queue: rejected, or over the delivery limit): its own `user_id`, the user that published
///   it, whatever producer it claims;
/// - anything else (another user's message that the broker did not dead-letter, or one with no
///   `user_id`) is refused: it stays in the dead-letter queue.
public struct DeadLetterReplay: Sendable {
    /// The consumer queue whose dead letters are replayed (not its `.dlq`).
    public let queue: String
    /// The broker user of the queue's consumer: the service the queue is named after.
    public let owner: String
    /// The operator's broker user, as whom the replay is published.
    public let operatorUser: String

    /// Why a dead letter is not replayed; it stays in the dead-letter queue.
    public struct Refusal: Error, CustomStringConvertible {
        /// The dead letter's `message_id` (`?` without one).
        public var messageID: String
        /// Why, in a sentence that ends the line.
        public var reason: String

        public var description: String { "refused \(messageID): \(reason)" }
    }

    /// A replay of `queue`'s dead letters, published as `operatorUser`.
    public init(queue: String, operatorUser: String) {
        self.queue = queue
        self.owner = QueueName.owner(of: queue)
        self.operatorUser = operatorUser
    }

    /// The message that sends the dead letter with `properties` and `body` back to ``queue``:
    /// without its failure headers (its consumer counts attempts afresh), with the producer the
    /// broker vouches for.
    public func message(properties original: MessageProperties, body: Data) throws(Refusal) -> OutboundMessage {
        var properties = original
        properties.headers[FailureHeader.producer] = .string(try producer(of: original))
        for key in properties.headers.keys
        where key == "x-death" || (key.hasPrefix("x-mercato-") && key != FailureHeader.producer) {
            properties.headers[key] = nil
        }
        // Stamped with the operator's user by the connection that publishes it.
        properties.userID = nil
        return OutboundMessage(exchange: "", routingKey: queue, properties: properties, body: body)
    }

    /// Who produced the dead letter with `properties`, as far as the broker vouches.
    func producer(of properties: MessageProperties) throws(Refusal) -> String {
        let id = properties.messageID ?? "?"
        let user = properties.userID ?? ""
        let deadLetterQueue = QueueName.deadLetter(of: queue)
        if user == owner || user == operatorUser {
            guard let recorded = properties.headers[FailureHeader.producer]?.stringValue, !recorded.isEmpty else {
                throw Refusal(
                    messageID: id,
                    reason:
                        "\(user) recorded no verified producer for it, so its consumer would refuse it again; purge it")
            }
            return recorded
        }
        guard let death = Self.latestDeath(in: properties) else {
            throw Refusal(
                messageID: id,
                reason:
                    "put there by \(user.isEmpty ? "an unknown user" : user), not by \(owner)'s consumer or the broker; left in \(deadLetterQueue)"
            )
        }
        guard death == queue else {
            throw Refusal(messageID: id, reason: "its x-death names \(death), not \(queue); left in \(deadLetterQueue)")
        }
        guard !user.isEmpty else {
            throw Refusal(
                messageID: id,
                reason: "it carries no user_id, so no one vouches for its producer; left in \(deadLetterQueue)")
        }
        return user
    }

    /// The queue the broker last dead-lettered the message out of: the first `x-death` entry's.
    static func latestDeath(in properties: MessageProperties) -> String? {
        guard case .array(let deaths)? = properties.headers["x-death"], case .table(let latest)? = deaths.first else {
            return nil
        }
        return latest["queue"]?.stringValue ?? ""
    }
}
