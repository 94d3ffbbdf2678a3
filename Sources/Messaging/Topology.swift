/// A set of AMQP exchanges, queues and bindings, declared together and idempotently.
///
/// Brokers remember every topology declared on them and declare it again after reconnecting,
/// so a restarted or replaced broker node gets back everything the services rely on.
public struct Topology: Hashable, Sendable, Codable {
    /// Exchanges, declared first.
    public var exchanges: [Exchange]
    /// Queues, declared after the exchanges their dead letters go to.
    public var queues: [Queue]
    /// Bindings from exchanges to queues, declared last.
    public var bindings: [Binding]

    /// Creates a topology.
    public init(exchanges: [Exchange] = [], queues: [Queue] = [], bindings: [Binding] = []) {
        self.exchanges = exchanges
        self.queues = queues
        self.bindings = bindings
    }

    /// This topology and `other`, without repeating what both contain.
    public func merging(_ other: Topology) -> Topology {
        func union<T: Hashable>(_ a: [T], _ b: [T]) -> [T] {
            var seen = Set(a)
            return a + b.filter { seen.insert($0).inserted }
        }
        return Topology(
            exchanges: union(exchanges, other.exchanges),
            queues: union(queues, other.queues),
            bindings: union(bindings, other.bindings)
        )
    }

    /// An AMQP exchange.
    public struct Exchange: Hashable, Sendable, Codable {
        /// How an exchange routes.
        public enum Kind: String, Hashable, Sendable, Codable {
            case direct, fanout, topic, headers
        }

        /// The exchange's name.
        public var name: String
        /// Its routing algorithm.
        public var kind: Kind
        /// Survives a broker restart. Default `true`.
        public var durable: Bool
        /// Deleted when its last binding goes. Default `false`.
        public var autoDelete: Bool

        /// Creates an exchange declaration.
        public init(name: String, kind: Kind, durable: Bool = true, autoDelete: Bool = false) {
            self.name = name
            self.kind = kind
            self.durable = durable
            self.autoDelete = autoDelete
        }
    }

    /// An AMQP queue.
    public struct Queue: Hashable, Sendable, Codable {
        /// The queue's name.
        public var name: String
        /// Survives a broker restart. Default `true`.
        public var durable: Bool
        /// Deleted when its last consumer goes. Default `false`.
        public var autoDelete: Bool
        /// Declaration arguments (`x-…`).
        public var arguments: Arguments

        /// Creates a queue declaration.
        public init(name: String, durable: Bool = true, autoDelete: Bool = false, arguments: Arguments = Arguments()) {
            self.name = name
            self.durable = durable
            self.autoDelete = autoDelete
            self.arguments = arguments
        }

        /// The optional `x-` arguments of a queue declaration, typed.
        public struct Arguments: Hashable, Sendable, Codable {
            /// `x-queue-type`; `nil` leaves the broker's default (classic).
            public var queueType: QueueType?
            /// `x-dead-letter-exchange`: where rejected, expired or over-delivered messages go.
            public var deadLetterExchange: String?
            /// `x-dead-letter-routing-key`; `nil` keeps the message's own routing key.
            public var deadLetterRoutingKey: String?
            /// `x-message-ttl` in milliseconds.
            public var messageTTL: Int?
            /// `x-delivery-limit` (quorum queues): deliveries before a message is dead-lettered.
            public var deliveryLimit: Int?
            /// `x-max-length`: messages the queue holds at most.
            public var maxLength: Int?
            /// `x-overflow`, e.g. `reject-publish`.
            public var overflow: String?
            /// `x-dead-letter-strategy` (quorum queues), e.g. `at-least-once`.
            public var deadLetterStrategy: String?

            /// Creates queue arguments; every one is optional.
            public init(
                queueType: QueueType? = nil,
                deadLetterExchange: String? = nil,
                deadLetterRoutingKey: String? = nil,
                messageTTL: Int? = nil,
                deliveryLimit: Int? = nil,
                maxLength: Int? = nil,
                overflow: String? = nil,
                deadLetterStrategy: String? = nil
            ) {
                self.queueType = queueType
                self.deadLetterExchange = deadLetterExchange
                self.deadLetterRoutingKey = deadLetterRoutingKey
                self.messageTTL = messageTTL
                self.deliveryLimit = deliveryLimit
                self.maxLength = maxLength
                self.overflow = overflow
                self.deadLetterStrategy = deadLetterStrategy
            }
        }
    }

    /// A binding: messages published to `exchange` whose routing key matches `routingKey`
    /// (with `*` and `#` on topic exchanges) are routed to `queue`.
    public struct Binding: Hashable, Sendable, Codable {
        /// The source exchange.
        public var exchange: String
        /// The destination queue.
        public var queue: String
        /// The routing key, or pattern on a topic exchange.
        public var routingKey: String

        /// Creates a binding declaration.
        public init(exchange: String, queue: String, routingKey: String) {
            self.exchange = exchange
            self.queue = queue
            self.routingKey = routingKey
        }
    }
}

/// The RabbitMQ queue type: `classic` on a single node, `quorum` on a replicated cluster.
public enum QueueType: String, Hashable, Sendable, Codable, CaseIterable {
    case classic
    case quorum
}
