extension Topology.Queue.Arguments {
    /// The arguments as the AMQP field table of `queue.declare`.
    var fieldTable: [String: HeaderValue] {
        var table: [String: HeaderValue] = [:]
        if let queueType { table["x-queue-type"] = .string(queueType.rawValue) }
        if let deadLetterExchange { table["x-dead-letter-exchange"] = .string(deadLetterExchange) }
        if let deadLetterRoutingKey { table["x-dead-letter-routing-key"] = .string(deadLetterRoutingKey) }
        if let messageTTL { table["x-message-ttl"] = .int(Int64(messageTTL)) }
        if let deliveryLimit { table["x-delivery-limit"] = .int(Int64(deliveryLimit)) }
        if let maxLength { table["x-max-length"] = .int(Int64(maxLength)) }
        if let overflow { table["x-overflow"] = .string(overflow) }
        if let deadLetterStrategy { table["x-dead-letter-strategy"] = .string(deadLetterStrategy) }
        return table
    }
}
