import Contracts
import Foundation
package import ServiceKit

/// Invoices orders: `stock.reserved` from `invoice-service.stock-reserved` becomes exactly one
/// invoice per order. An order is invoiced once catalog-service holds its stock, so it cannot
/// be paid for goods it will not get.
package struct InvoicingHandler: EventHandler {
    private let invoices: any InvoiceStore
    private let terms: InvoicingTerms

    /// Creates the handler over `invoices`, invoicing on `terms`.
    package init(invoices: any InvoiceStore, terms: InvoicingTerms) {
        self.invoices = invoices
        self.terms = terms
    }

    package var accepts: [AcceptedEvent] { [AcceptedEvent(StockReserved.self)] }

    package func apply(_ events: [IncomingEvent]) async throws {
        let orders = try events.map { event in
            let order = try event.decode(StockReserved.self).data.order
            if let defect = order.defect { throw PoisonMessage(defect) }
            return OrderToInvoice(event: event, order: order, traceparent: event.traceparent)
        }
        try await invoices.invoice(orders, terms: terms, at: Date())
    }
}
