public import Broker
import Contracts

/// Who may produce which event: a consumer accepts an event only from a broker user allowed
/// to produce its type. The user is the delivery's `user_id`, which RabbitMQ checks against
/// the publishing connection's login, so a service holding customer-service's credentials
/// cannot pass off an `invoice.created`.
public struct ProducerPolicy: Sendable, Equatable {
    /// The users allowed to produce each event type; a type not listed may come from the
    /// service its family names (`invoice.created` from `invoice-service`).
    public var producers: [String: Set<String>]
    /// Users whose re-publishing keeps the producer recorded in `x-mercato-producer`: the
    /// consumer's own user (its delay queues send events back to it) and the operator's
    /// (dead-letter replays). Anyone else's message is judged by its own `user_id`.
    public var republishers: Set<String>

    /// Creates a policy.
    public init(producers: [String: Set<String>] = [:], republishers: Set<String>) {
        self.producers = producers
        self.republishers = republishers
    }

    /// The users allowed to produce `type`: those configured, else the service whose exchange
    /// the type is published to (`MercatoService`, `EventType`), else the service its
    /// family names.
    public func allowed(_ type: String) -> Set<String> {
        if let listed = producers[type] { return listed }
        if let exchange = EventType.all.first(where: { $0.name == type })?.exchange,
            let owner = MercatoService.all.first(where: { $0.exchange == exchange })
        {
            return [owner.name]
        }
        guard let family = type.split(separator: ".").first, !family.isEmpty else { return [] }
        return ["\(family)-service"]
    }

    /// Who produced `delivery`, as far as the broker vouches: its `user_id`, or for a message
    /// a republisher sent, the producer it recorded; `nil` if unknown (no `user_id`).
    public func producer(of delivery: Delivery) -> String? {
        producer(of: delivery.properties)
    }

    /// Who produced the message with `properties`; see ``producer(of:)-(Delivery)``.
    public func producer(of properties: MessageProperties) -> String? {
        guard let user = properties.userID, !user.isEmpty else { return nil }
        guard republishers.contains(user) else { return user }
        return properties.headers[FailureHeader.producer]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Why `delivery`, an event of `type`, must not be applied; `nil` if its producer may
    /// produce it.
    func refusal(of delivery: Delivery, type: String) -> PoisonMessage? {
        let allowed = allowed(type)
        guard let producer = producer(of: delivery) else {
            return PoisonMessage(
                "forbidden_publisher: \(type) carries no verified user_id; expected \(allowed.sorted().joined(separator: " or "))"
            )
        }
        guard allowed.contains(producer) else {
            return PoisonMessage(
                "forbidden_publisher: \(type) from \(producer); expected \(allowed.sorted().joined(separator: " or "))")
        }
        return nil
    }
}
