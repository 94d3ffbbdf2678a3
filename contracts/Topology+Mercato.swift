public import Messaging

extension Topology {
    /// `x-delivery-limit` of the quorum consumer queues: a message delivered this many times
    /// without being settled — one that kills its consumer before it can ack or dead-letter
    /// it — goes to the `.dlq` (with an `x-death` reason `delivery_limit`) instead of taking
    /// every replica down in turn. Generous, as connection losses in a failover return
    /// whole prefetch windows several times.
    public static let quorumDeliveryLimit = 20

    /// A consumer queue `queue` bound to `exchange` with `routingKeys`, with its dead-letter
    /// queue `<queue>.dlq` and its delay queues `<queue>.retry.<N>s` (see ``RetryPolicy``).
    ///
    /// The broker dead-letters into the `.dlq` through ``ExchangeName/deadLetter``; the
    /// queue's consumer moves messages into the `.dlq` and the delay queues through its
    /// service's own ``ExchangeName/failures(of:)``, bound to them alone — so a service's
    /// credentials reach no other service's dead letters or retries, and no service writes
    /// to the default exchange.
    ///
    /// Quorum queues get at-least-once dead-lettering (which RabbitMQ only honours together
    /// with `overflow=reject-publish`), so a message moving to the `.dlq` cannot be lost
    /// between the two queues, and a delivery limit of ``quorumDeliveryLimit``.
    public static func consumerQueue(
        _ queue: String,
        exchange: String,
        routingKeys: [String],
        queueType: QueueType
    ) -> Topology {
        let deadLetterQueue = QueueName.deadLetter(of: queue)
        let failures = ExchangeName.failures(of: QueueName.owner(of: queue))
        let quorum = queueType == .quorum
        let arguments = Queue.Arguments(
            queueType: queueType,
            deadLetterExchange: ExchangeName.deadLetter,
            deadLetterRoutingKey: queue,
            deliveryLimit: quorum ? quorumDeliveryLimit : nil,
            overflow: quorum ? "reject-publish" : nil,
            deadLetterStrategy: quorum ? "at-least-once" : nil
        )
        // Delay queues expire messages back into `queue` through the default exchange: the
        // broker's own dead-lettering, which needs no one's permission to write there.
        let delayQueues = RetryPolicy.delaysMilliseconds.map { delay in
            Queue(
                name: QueueName.retry(of: queue, delayMilliseconds: delay),
                arguments: Queue.Arguments(
                    queueType: queueType, deadLetterExchange: "", deadLetterRoutingKey: queue, messageTTL: delay,
                    overflow: quorum ? "reject-publish" : nil, deadLetterStrategy: quorum ? "at-least-once" : nil))
        }
        return Topology(
            exchanges: [
                Exchange(name: exchange, kind: .topic),
                Exchange(name: ExchangeName.deadLetter, kind: .direct),
                Exchange(name: failures, kind: .direct),
            ],
            queues: [
                Queue(name: deadLetterQueue, arguments: Queue.Arguments(queueType: queueType)),
                Queue(name: queue, arguments: arguments),
            ] + delayQueues,
            bindings: routingKeys.map { Binding(exchange: exchange, queue: queue, routingKey: $0) } + [
                Binding(exchange: ExchangeName.deadLetter, queue: deadLetterQueue, routingKey: queue),
                Binding(exchange: failures, queue: deadLetterQueue, routingKey: queue),
            ] + delayQueues.map { Binding(exchange: failures, queue: $0.name, routingKey: $0.name) }
        )
    }

    /// Everything Mercato's services publish to and consume from. Every service declares all
    /// of it at start-up, so an event published before its consumer first ran is queued, not
    /// dropped as unroutable.
    public static func mercato(queueType: QueueType = .classic) -> Topology {
        [
            consumerQueue(
                QueueName.customerOrderCreated, exchange: ExchangeName.orders,
                routingKeys: [EventType.orderCreated.name], queueType: queueType),
            // An order's stock is reserved before it is invoiced: catalog-service is the
            // authority on stock, and no payment can come before the reservation it sells.
            consumerQueue(
                QueueName.catalogOrderEvents, exchange: ExchangeName.orders,
                routingKeys: [EventType.orderCreated.name, EventType.orderCancelled.name], queueType: queueType),
            consumerQueue(
                QueueName.invoiceStockReserved, exchange: ExchangeName.catalog,
                routingKeys: [EventType.stockReserved.name], queueType: queueType),
            consumerQueue(
                QueueName.orderInvoiceCreated, exchange: ExchangeName.invoices,
                routingKeys: [EventType.invoiceCreated.name], queueType: queueType),
            consumerQueue(
                QueueName.orderCustomerEvents, exchange: ExchangeName.customers,
                routingKeys: ["customer.*"], queueType: queueType),
            // The order's later life has queues of its own: `order.created` stays on the hot
            // queues alone, and an event arriving before the one it follows is handled by
            // the consumers' state machines, not by queue order.
            consumerQueue(
                QueueName.customerOrderCancelled, exchange: ExchangeName.orders,
                routingKeys: [EventType.orderCancelled.name], queueType: queueType),
            consumerQueue(
                QueueName.invoiceOrderCancelled, exchange: ExchangeName.orders,
                routingKeys: [EventType.orderCancelled.name], queueType: queueType),
            consumerQueue(
                QueueName.orderInvoicePayments, exchange: ExchangeName.invoices,
                routingKeys: [
                    EventType.invoicePaid.name, EventType.invoiceVoided.name, EventType.invoiceRefunded.name,
                    EventType.invoiceOverdue.name,
                ],
                queueType: queueType),
            consumerQueue(
                QueueName.orderProductEvents, exchange: ExchangeName.catalog,
                routingKeys: [
                    EventType.productCreated.name, EventType.productUpdated.name, EventType.stockReplenished.name,
                ], queueType: queueType),
            consumerQueue(
                QueueName.orderStockRejected, exchange: ExchangeName.catalog,
                routingKeys: [EventType.stockRejected.name], queueType: queueType),
            consumerQueue(
                QueueName.catalogInvoicePaid, exchange: ExchangeName.invoices,
                routingKeys: [EventType.invoicePaid.name], queueType: queueType),
        ].reduce(Topology()) { $0.merging($1) }
    }
}
