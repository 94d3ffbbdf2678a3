public import Contracts
public import Foundation
public import ServiceKit

/// invoice-service's storage.
public protocol InvoiceRepository: Sendable {
    /// Invoices each order once, in one transaction: inbox entries, the next gapless numbers,
    /// the invoices and their `invoice.created` events. An order that already has an invoice
    /// (a duplicate under another event id) gets none.
    func invoice(_ orders: [OrderToInvoice], taxRate: Decimal, at time: Date) async throws

    /// The invoice, if it exists.
    func invoice(id: UUID) async throws -> Invoice?

    /// The invoice of an order, if it has one.
    func invoice(orderID: UUID) async throws -> Invoice?

    /// A page of invoices, oldest first: everyone's, or `customerID`'s only.
    func invoices(page: PageRequest, customerID: UUID?) async throws -> [Invoice]
}

/// One `order.created` to invoice.
public struct OrderToInvoice: Sendable {
    /// The inbox entry.
    public var event: IncomingEvent
    /// The order.
    public var order: OrderCreated
    /// Carried into `invoice.created`.
    public var traceparent: String?

    /// Creates the entry.
    public init(event: IncomingEvent, order: OrderCreated, traceparent: String?) {
        self.event = event
        self.order = order
        self.traceparent = traceparent
    }
}
