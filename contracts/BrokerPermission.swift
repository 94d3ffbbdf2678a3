import Foundation

/// What one service's RabbitMQ user may do, as the regular expressions of RabbitMQ's
/// `configure`, `write` and `read` permissions: least privilege for each service.
public struct BrokerPermission: Sendable, Hashable {
    /// The broker user: the service's name.
    public var user: String
    /// Resources it may declare or delete: none; the topology is applied by an admin step.
    public var configure: String
    /// Exchanges it may publish to: its own events' exchange and its own
    /// ``ExchangeName/failures(of:)`` (its retries and dead letters). Never the default
    /// exchange (`amq.default`, which reaches every queue by name) nor
    /// ``ExchangeName/deadLetter`` (every dead-letter queue by its queue's name): with either,
    /// its credentials could put a forged event into another service's queues.
    public var write: String
    /// Queues it may consume from (and exchanges it may bind from): its own.
    public var read: String

    /// The permissions of every Mercato service.
    public static let mercato: [BrokerPermission] = MercatoService.all.map {
        service($0.name, publishesTo: $0.exchange)
    }

    static func service(_ name: String, publishesTo exchange: String) -> BrokerPermission {
        func quoted(_ text: String) -> String { text.replacingOccurrences(of: ".", with: "\\.") }
        return BrokerPermission(
            user: name, configure: "^$",
            write: "^(\(quoted(exchange))|\(quoted(ExchangeName.failures(of: name))))$",
            read: "^\(quoted(name))\\.")
    }
}
