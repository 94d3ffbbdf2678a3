import Contracts
import Foundation
package import ServiceKit

/// Invoices orders: `order.created` from `invoice-service.order-created` becomes exactly one
/// invoice per order.
package struct InvoicingHandler: EventHandler {
    private let invoices: any InvoiceStore
    private let terms: InvoicingTerms

    /// Creates the handler over `invoices`, invoicing on `terms`.
    package init(invoices: any InvoiceStore, terms: InvoicingTerms) {
        self.invoices = invoices
        self.terms = terms
    }

    package var accepts: [AcceptedEvent] { [AcceptedEvent(OrderCreated.self)] }

    package func apply(_ events: [IncomingEvent]) async throws {
        let orders = try events.map { event in
            let envelope = try event.decode(OrderCreated.self)
            let order = envelope.data
            guard !order.items.isEmpty else { throw PoisonMessage("order \(order.orderID) has no items") }
            let sum = order.items.map(\.lineTotal).reduce(Money.zero, +)
            guard order.items.allSatisfy({ $0.lineTotal == $0.unitPrice * $0.quantity }), sum == order.total else {
                throw PoisonMessage(
                    "order \(order.orderID) does not add up: its lines make \(sum), its total says \(order.total)")
            }
            return OrderToInvoice(event: event, order: order, traceparent: event.traceparent)
        }
        try await invoices.invoice(orders, terms: terms, at: Date())
    }
}
