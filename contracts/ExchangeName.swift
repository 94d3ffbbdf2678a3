/// Names of the exchanges in Mercato's topology.
public enum ExchangeName {
    /// Durable topic exchange for `order.*` events.
    public static let orders = "orders"
    /// Durable topic exchange for `customer.*` events.
    public static let customers = "customers"
    /// Durable topic exchange for `invoice.*` events.
    public static let invoices = "invoices"
    /// Direct exchange that routes a dead-lettered message to `<queue>.dlq` by its queue's name.
    public static let deadLetter = "mercato.dead-letter"
}
