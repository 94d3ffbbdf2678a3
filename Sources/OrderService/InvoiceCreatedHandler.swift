import Contracts
import Foundation
package import ServiceKit

/// Marks orders invoiced: `invoice.created` from `order-service.invoice-created`, and tells
/// ``OrderAdmission`` how long each order took to get there.
package struct InvoiceCreatedHandler: EventHandler {
    private let store: any OrderStore
    private let admission: OrderAdmission?

    /// Creates the handler over `store`, timing trips for `admission`.
    package init(store: any OrderStore, admission: OrderAdmission? = nil) {
        self.store = store
        self.admission = admission
    }

    package var accepts: [AcceptedEvent] { [AcceptedEvent(InvoiceCreated.self)] }

    package func apply(_ events: [IncomingEvent]) async throws {
        let invoices = try events.map { event in
            let invoice = try event.decode(InvoiceCreated.self).data
            return InvoicedOrder(
                event: event, orderID: invoice.orderID, invoiceID: invoice.invoiceID,
                invoiceNumber: invoice.invoiceNumber, dueAt: invoice.dueAt)
        }
        let recorded = try await store.markInvoiced(invoices)
        if let admission, !recorded.isEmpty {
            // The order's trip, placed to invoiced: what admission control keeps short.
            let now = Date()
            admission.record(tripMilliseconds: recorded.map { now.timeIntervalSince($0.placedAt) * 1000 })
        }
    }
}
