import Contracts
package import ServiceKit

/// invoice-service: one invoice per order whose stock is reserved (`stock.reserved`), `invoice.created` through the outbox;
/// payments through the provider (`invoice.paid`), invoices unpaid at their due date closed
/// (`invoice.overdue`), voids of cancelled orders' invoices (`invoice.voided`), and the
/// refunds of money that cannot stay (`invoice.refunded`).
package enum InvoiceServiceApp {
    /// What invoice-service is built on: the common dependencies, its storage and the payment
    /// provider's books.
    package struct Dependencies: Sendable {
        /// The database, broker, outbox and logger.
        package var service: ServiceDependencies
        /// The invoices.
        package var invoices: any InvoiceStore
        /// The payments.
        package var payments: any PaymentStore
        /// The simulated provider's ledger (its record of charges, captures and refunds).
        package var ledger: any SimulatedProviderLedger

        /// Dependencies as given.
        package init(
            service: ServiceDependencies, invoices: any InvoiceStore, payments: any PaymentStore,
            ledger: any SimulatedProviderLedger
        ) {
            self.service = service
            self.invoices = invoices
            self.payments = payments
            self.ledger = ledger
        }

        /// The real ones: PostgreSQL (the provider's ledger too) and RabbitMQ.
        package static func live(_ configuration: InvoiceServiceConfiguration) throws -> Dependencies {
            let service = try ServiceDependencies.live(configuration.service)
            return Dependencies(
                service: service,
                invoices: PostgresInvoiceStore(client: service.database, stamp: configuration.service.eventStamp),
                payments: PostgresPaymentStore(client: service.database, stamp: configuration.service.eventStamp),
                ledger: PostgresSimulatedProviderLedger(client: service.database))
        }
    }

    /// Builds the service from `configuration` over `dependencies`.
    package static func build(_ configuration: InvoiceServiceConfiguration, dependencies: Dependencies) async throws
        -> ServiceApplication
    {
        let runtime = ServiceRuntime(configuration: configuration.service, dependencies: dependencies.service)
        let invoices = dependencies.invoices
        let provider = SimulatedPaymentGateway(
            ledger: dependencies.ledger, configuration: configuration.simulator, clock: ContinuousClock(),
            logger: runtime.logger)
        let gateway = ResilientPaymentGateway(
            provider, configuration: configuration.gateway, clock: ContinuousClock(), logger: runtime.logger)
        let payments = PaymentProcessor(
            store: dependencies.payments, invoices: invoices, gateway: gateway,
            staleAfter: configuration.gateway.longestCall + .seconds(5),
            logger: runtime.logger)
        let reconciler = PaymentReconciler(
            processor: payments, readiness: runtime.readiness, interval: configuration.reconcileInterval,
            logger: runtime.logger)
        return try await runtime.application(
            migrations: InvoiceMigrations.all,
            consumers: [
                runtime.consumer(
                    of: QueueName.invoiceStockReserved,
                    handler: InvoicingHandler(invoices: invoices, terms: configuration.terms)),
                runtime.consumer(
                    of: QueueName.invoiceOrderCancelled,
                    handler: OrderCancelledHandler(
                        invoices: invoices, refundsOwed: { payments.refundsOwed.signal() })),
            ],
            background: [
                reconciler,
                InvoiceOverdueSweeper(
                    invoices: invoices, readiness: runtime.readiness, interval: configuration.overdueSweepInterval,
                    logger: runtime.logger),
            ],
            readinessDetails: { ["payment.circuit": gateway.breaker.state.rawValue] },
            openAPI: PackageResources.openapi_json,
            routes: {
                InvoiceRoutes(
                    invoices: invoices, paymentStore: dependencies.payments, payments: payments,
                    maxBodyBytes: configuration.service.maxBodyBytes
                ).add(to: $0, access: $1)
            })
    }

    /// Runs the service with `configuration` until SIGTERM or SIGINT.
    package static func run(_ configuration: InvoiceServiceConfiguration) async throws {
        try await build(configuration, dependencies: .live(configuration)).run()
    }
}
