/// Names of the exchanges in Mercato's topology.
public enum ExchangeName {
    /// Durable topic exchange for `order.*` events.
    public static let orders = "orders"
    /// Durable topic exchange for `customer.*` events.
    public static let customers = "customers"
    /// Durable topic exchange for `invoice.*` events.
    public static let invoices = "invoices"
    /// Durable topic exchange for `product.*` and `stock.*` events.
    public static let catalog = "catalog"
    /// Direct exchange that routes a dead-lettered message to `<queue>.dlq` by its queue's name.
    /// Only the broker writes to it (a queue's `x-dead-letter-exchange`: rejected, expired or
    /// over its delivery limit); no service may, so none can put a message into another's
    /// dead-letter queue.
    public static let deadLetter = "mercato.dead-letter"

    /// Direct exchange through which `service`'s consumers move a message out of their queues:
    /// to a delay queue by the delay queue's name, or to `<queue>.dlq` by the queue's name.
    /// It is bound to `service`'s own queues only, and only `service` may write to it, so its
    /// credentials reach no other service's retries or dead letters.
    public static func failures(of service: String) -> String { "\(service).failures" }
}
