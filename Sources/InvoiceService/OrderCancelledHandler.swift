import Contracts
package import ServiceKit

/// Voids the invoices of cancelled orders: `order.cancelled` from
/// `invoice-service.order-cancelled`. An order not invoiced yet never will be; a payment
/// already captured is refunded by the ``PaymentReconciler``, woken at once.
package struct OrderCancelledHandler: EventHandler {
    private let invoices: any InvoiceStore
    private let refundsOwed: @Sendable () -> Void

    /// Creates the handler over `invoices`; `refundsOwed` is called when voids left money to give back.
    package init(invoices: any InvoiceStore, refundsOwed: @escaping @Sendable () -> Void) {
        self.invoices = invoices
        self.refundsOwed = refundsOwed
    }

    package var accepts: [AcceptedEvent] { [AcceptedEvent(OrderCancelled.self)] }

    package func apply(_ events: [IncomingEvent]) async throws {
        let cancellations = try events.map { event in
            CancelledOrder(
                event: event, cancellation: try event.decode(OrderCancelled.self).data, traceparent: event.traceparent)
        }
        if try await invoices.cancelOrders(cancellations) > 0 { refundsOwed() }
    }
}
