import Contracts
import ServiceKit

/// invoice-service: one invoice per `order.created`, `invoice.created` through the outbox;
/// payments through the provider (`invoice.paid`), invoices unpaid at their due date closed
/// (`invoice.overdue`), voids of cancelled orders' invoices (`invoice.voided`), and the
/// refunds of money that cannot stay (`invoice.refunded`).
public enum InvoiceServiceApp {
    /// Runs the service with `configuration` until SIGTERM or SIGINT.
    public static func run(_ configuration: InvoiceServiceConfiguration) async throws {
        let runtime = try ServiceRuntime(configuration: configuration.service)
        let repository = PostgresInvoiceRepository(client: runtime.database, stamp: configuration.service.eventStamp)
        let provider = SimulatedPaymentGateway(
            ledger: PostgresSimulatedProviderLedger(client: runtime.database), configuration: configuration.simulator, clock: ContinuousClock(),
            logger: runtime.logger)
        let gateway = ResilientPaymentGateway(provider, configuration: configuration.gateway, clock: ContinuousClock(), logger: runtime.logger)
        let payments = PaymentProcessor(
            repository: repository, gateway: gateway, staleAfter: configuration.gateway.longestCall + .seconds(5), logger: runtime.logger)
        let reconciler = PaymentReconciler(
            processor: payments, readiness: runtime.readiness, interval: configuration.reconcileInterval, logger: runtime.logger)
        try await runtime.run(
            migrations: InvoiceMigrations.all,
            consumers: [
                runtime.consumer(of: QueueName.invoiceOrderCreated, handler: InvoicingHandler(repository: repository, terms: configuration.terms)),
                runtime.consumer(
                    of: QueueName.invoiceOrderCancelled,
                    handler: OrderCancelledHandler(repository: repository, refundsOwed: { payments.refundsOwed.signal() })),
            ],
            background: [
                reconciler,
                InvoiceOverdueSweeper(
                    repository: repository, readiness: runtime.readiness, interval: configuration.overdueSweepInterval, logger: runtime.logger),
            ],
            readinessDetails: { ["payment.circuit": gateway.breaker.state.rawValue] },
            openAPI: PackageResources.openapi_json,
            routes: { InvoiceRoutes(repository: repository, payments: payments, maxBodyBytes: configuration.service.maxBodyBytes).add(to: $0, access: $1) })
    }
}
