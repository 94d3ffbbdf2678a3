import Contracts
package import ServiceKit

/// Voids the invoices of cancelled orders: `order.cancelled` from
/// `invoice-service.order-cancelled`. An order not invoiced yet never will be; a payment
/// already captured is refunded by the ``PaymentReconciler``, woken at once.
package struct OrderCancelledHandler: EventHandler {
    private let repository: any InvoiceRepository
    private let refundsOwed: @Sendable () -> Void

    /// Creates the handler over `repository`; `refundsOwed` is called when voids left money to give back.
    package init(repository: any InvoiceRepository, refundsOwed: @escaping @Sendable () -> Void) {
        self.repository = repository
        self.refundsOwed = refundsOwed
    }

    package var accepts: [AcceptedEvent] { [AcceptedEvent(OrderCancelled.self)] }

    package func apply(_ events: [IncomingEvent]) async throws {
        let cancellations = try events.map { event in
            CancelledOrder(
                event: event, cancellation: try event.decode(OrderCancelled.self).data, traceparent: event.traceparent)
        }
        if try await repository.cancelOrders(cancellations) > 0 { refundsOwed() }
    }
}
