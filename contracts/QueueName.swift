/// Names of the queues in Mercato's topology: `<consumer-service>.<what>`.
public enum QueueName {
    /// customer-service counts orders from `order.created`.
    public static let customerOrderCreated = "customer-service.order-created"
    /// invoice-service invoices orders from `stock.reserved`: an order is invoiced once its
    /// stock is reserved, so no payment can come before its reservation.
    public static let invoiceStockReserved = "invoice-service.stock-reserved"
    /// order-service marks orders invoiced from `invoice.created`.
    public static let orderInvoiceCreated = "order-service.invoice-created"
    /// order-service keeps its customer replica from `customer.*`.
    public static let orderCustomerEvents = "order-service.customer-events"
    /// customer-service takes cancelled orders out of `orders_count` from `order.cancelled`.
    public static let customerOrderCancelled = "customer-service.order-cancelled"
    /// invoice-service voids the invoices of cancelled orders (refunding what was paid) from
    /// `order.cancelled`.
    public static let invoiceOrderCancelled = "invoice-service.order-cancelled"
    /// order-service marks orders paid, or their invoice void and payment refunded, from
    /// `invoice.paid`, `invoice.voided`, `invoice.refunded` and `invoice.overdue`.
    public static let orderInvoicePayments = "order-service.invoice-payments"

    /// order-service keeps its product replica (prices, availability) from `product.*`, and
    /// counts deliveries for the live page from `stock.replenished`.
    public static let orderProductEvents = "order-service.product-events"
    /// order-service cancels (reason `out_of_stock`) the orders whose stock could not be
    /// reserved, from `stock.rejected`.
    public static let orderStockRejected = "order-service.stock-rejected"
    /// catalog-service reserves the stock of new orders (`order.created`) and releases that of
    /// cancelled ones (`order.cancelled`).
    public static let catalogOrderEvents = "catalog-service.order-events"
    /// catalog-service turns a paid order's reservation into a sale, from `invoice.paid`.
    public static let catalogInvoicePaid = "catalog-service.invoice-paid"

    /// Every queue a service consumes, in the order the services depend on each other.
    public static let consumerQueues = [
        customerOrderCreated, catalogOrderEvents, invoiceStockReserved, orderInvoiceCreated, orderCustomerEvents,
        customerOrderCancelled, invoiceOrderCancelled, orderInvoicePayments, orderProductEvents, orderStockRejected,
        catalogInvoicePaid,
    ]

    /// The service that consumes `queue`, whose broker user has the service's name: the part
    /// of the name before the first dot.
    public static func owner(of queue: String) -> String {
        String(queue.prefix { $0 != "." })
    }

    /// The dead-letter queue of `queue`.
    public static func deadLetter(of queue: String) -> String { queue + ".dlq" }

    /// The delay queue of `queue` that holds messages for `delayMilliseconds` before they
    /// return to it: `<queue>.retry.5s`.
    public static func retry(of queue: String, delayMilliseconds: Int) -> String {
        delayMilliseconds % 1000 == 0
            ? "\(queue).retry.\(delayMilliseconds / 1000)s" : "\(queue).retry.\(delayMilliseconds)ms"
    }
}
