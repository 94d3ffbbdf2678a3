import Contracts
public import Foundation
public import ServiceKit

/// invoice-service's storage in memory, for unit tests; it passes the same contract suite as
/// ``PostgresInvoiceRepository``.
public actor MemoryInvoiceRepository: InvoiceRepository {
    private var invoices: [UUID: Invoice] = [:]
    private var byOrder: [UUID: UUID] = [:]
    private var counters: [Int: Int] = [:]
    private var inbox: Set<String> = []
    /// The events queued by the repository.
    public nonisolated let outbox: MemoryOutboxStore
    private let stamp: EventStamp

    /// Creates an empty repository; `stamp` marks the events it queues, `outbox` receives them.
    public init(stamp: EventStamp = EventStamp(serviceName: "invoice-service"), outbox: MemoryOutboxStore = MemoryOutboxStore()) {
        self.stamp = stamp
        self.outbox = outbox
    }

    public func invoice(_ orders: [OrderToInvoice], taxRate: Decimal, at time: Date) async throws {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let year = calendar.component(.year, from: time)
        var events: [OutboxMessage] = []
        var created: [Invoice] = []
        var sequence = counters[year] ?? 0
        var seen = inbox
        var invoicedOrders = Set(byOrder.keys)
        for entry in orders where seen.insert(entry.event.id).inserted && invoicedOrders.insert(entry.order.orderID).inserted {
            sequence += 1
            let invoice = Invoice(for: entry.order, id: UUID(), number: Invoice.number(year: year, sequence: sequence), taxRate: taxRate, issuedAt: time)
            created.append(invoice)
            events.append(try stamp.message(invoice.createdEvent, subject: invoice.id, time: time, traceparent: entry.traceparent))
        }
        // Nothing above throws past this point: all of it, or (like a rollback) none.
        inbox = seen
        counters[year] = sequence
        for invoice in created {
            invoices[invoice.id] = invoice
            byOrder[invoice.orderID] = invoice.id
        }
        outbox.append(events)
    }

    public func invoice(id: UUID) async throws -> Invoice? { invoices[id] }

    public func invoice(orderID: UUID) async throws -> Invoice? { byOrder[orderID].flatMap { invoices[$0] } }

    public func invoices(page: PageRequest, customerID: UUID?) async throws -> [Invoice] {
        page.page(of: invoices.values.filter { customerID == nil || $0.customerID == customerID }) { PageCursor(time: $0.issuedAt, id: $0.id) }
    }
}
