import Broker
import Contracts
import Testing

@Suite(.timeLimit(.minutes(1)))
struct TopologyTests {
    @Test(arguments: QueueType.allCases)
    func everyConsumerQueueHasADeadLetterQueue(_ queueType: QueueType) {
        let topology = Topology.mercato(queueType: queueType)
        let consumerQueues = topology.queues.filter { !$0.name.hasSuffix(".dlq") && !$0.name.contains(".retry.") }
        #expect(Set(consumerQueues.map(\.name)) == Set(QueueName.consumerQueues))
        #expect(
            Set(QueueName.consumerQueues) == [
                QueueName.customerOrderCreated, QueueName.catalogOrderEvents, QueueName.invoiceStockReserved,
                QueueName.orderInvoiceCreated, QueueName.orderCustomerEvents,
                QueueName.customerOrderCancelled, QueueName.invoiceOrderCancelled, QueueName.orderInvoicePayments,
                QueueName.orderProductEvents, QueueName.orderStockRejected, QueueName.catalogInvoicePaid,
            ])
        for queue in consumerQueues {
            #expect(queue.durable)
            #expect(queue.arguments.queueType == queueType)
            #expect(queue.arguments.deadLetterExchange == ExchangeName.deadLetter)
            #expect(queue.arguments.deadLetterRoutingKey == queue.name)
            let dlq = QueueName.deadLetter(of: queue.name)
            #expect(topology.queues.contains { $0.name == dlq && $0.durable })
            #expect(
                topology.bindings.contains(.init(exchange: ExchangeName.deadLetter, queue: dlq, routingKey: queue.name))
            )
            // Its consumer reaches its .dlq and delay queues through its own service's exchange.
            let failures = ExchangeName.failures(of: QueueName.owner(of: queue.name))
            #expect(topology.bindings.contains(.init(exchange: failures, queue: dlq, routingKey: queue.name)))
            for delay in RetryPolicy.delaysMilliseconds {
                let retry = topology.queues.first {
                    $0.name == QueueName.retry(of: queue.name, delayMilliseconds: delay)
                }
                #expect(
                    topology.bindings.contains(
                        .init(
                            exchange: failures, queue: QueueName.retry(of: queue.name, delayMilliseconds: delay),
                            routingKey: retry?.name ?? "")))
                #expect(retry?.arguments.messageTTL == delay)
                #expect(retry?.arguments.deadLetterExchange == "")
                #expect(retry?.arguments.deadLetterRoutingKey == queue.name)
            }
            if queueType == .quorum {
                #expect(queue.arguments.deadLetterStrategy == "at-least-once")
                #expect(queue.arguments.overflow == "reject-publish")
            }
        }
    }

    @Test func exchangesAreDeclaredOnceAndDurable() {
        let topology = Topology.mercato()
        let names = topology.exchanges.map(\.name)
        let services = MercatoService.all.map(\.name)
        let direct = [ExchangeName.deadLetter] + services.map(ExchangeName.failures(of:))
        #expect(names.count == Set(names).count)
        #expect(
            Set(names)
                == Set(
                    [ExchangeName.orders, ExchangeName.customers, ExchangeName.invoices, ExchangeName.catalog] + direct)
        )
        #expect(topology.exchanges.allSatisfy { $0.durable })
        #expect(topology.exchanges.filter { direct.contains($0.name) }.allSatisfy { $0.kind == .direct })
        #expect(topology.exchanges.filter { !direct.contains($0.name) }.allSatisfy { $0.kind == .topic })
    }

    /// A service's own exchange for retries and dead letters reaches its own queues only, so
    /// the one exchange its user may write besides its events' cannot reach another service.
    @Test func aServicesFailuresExchangeReachesOnlyItsOwnQueues() {
        let topology = Topology.mercato()
        for service in ["order-service", "customer-service", "invoice-service"] {
            let reached = topology.bindings.filter { $0.exchange == ExchangeName.failures(of: service) }.map(\.queue)
            #expect(!reached.isEmpty)
            #expect(
                reached.allSatisfy { $0.hasPrefix(service + ".") && ($0.hasSuffix(".dlq") || $0.contains(".retry.")) },
                "\(reached)")
        }
        #expect(QueueName.owner(of: QueueName.orderInvoicePayments) == "order-service")
        #expect(QueueName.owner(of: "q") == "q")
    }

    @Test func everyEventTypeIsConsumedSomewhere() {
        let topology = Topology.mercato()
        for type in EventType.all {
            #expect(topology.exchanges.contains { $0.name == type.exchange })
            let consumed = topology.bindings.contains { binding in
                binding.exchange == type.exchange
                    && (binding.routingKey == type.name
                        || binding.routingKey == type.name.split(separator: ".")[0] + ".*")
            }
            #expect(consumed, "\(type) reaches no queue")
        }
        #expect(EventType.named("order.created") == .orderCreated)
        #expect(EventType.named("order.deleted") == nil)
    }

    @Test func retryTiersGrowThenStay() {
        #expect(RetryPolicy.delayQueue(of: "q", afterAttempt: 1) == "q.retry.1s")
        #expect(RetryPolicy.delayQueue(of: "q", afterAttempt: 2) == "q.retry.5s")
        #expect(RetryPolicy.delayQueue(of: "q", afterAttempt: 3) == "q.retry.30s")
        #expect(RetryPolicy.delayQueue(of: "q", afterAttempt: 9) == "q.retry.30s")
    }

    @Test func mergingDoesNotRepeat() {
        let a = Topology.consumerQueue("q", exchange: "x", routingKeys: ["k"], queueType: .classic)
        #expect(a.merging(a) == a)
    }
}
