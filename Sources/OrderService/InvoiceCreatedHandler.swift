import Contracts
public import ServiceKit

/// Marks orders invoiced: `invoice.created` from `order-service.invoice-created`.
public struct InvoiceCreatedHandler: EventHandler {
    private let repository: any OrderRepository

    /// Creates the handler over `repository`.
    public init(repository: any OrderRepository) {
        self.repository = repository
    }

    public var accepts: [AcceptedEvent] { [AcceptedEvent(InvoiceCreated.self)] }

    public func apply(_ events: [IncomingEvent]) async throws {
        let invoices = try events.map { event in
            let invoice = try event.decode(InvoiceCreated.self).data
            return InvoicedOrder(
                event: event, orderID: invoice.orderID, invoiceID: invoice.invoiceID, invoiceNumber: invoice.invoiceNumber, dueAt: invoice.dueAt)
        }
        try await repository.markInvoiced(invoices)
    }
}
