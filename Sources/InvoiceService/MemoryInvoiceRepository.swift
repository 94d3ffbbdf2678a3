import Contracts
public import Foundation
public import ServiceKit

/// invoice-service's storage in memory, for unit tests.
public actor MemoryInvoiceRepository: InvoiceRepository {
    private var invoices: [UUID: Invoice] = [:]
    private var byOrder: [UUID: UUID] = [:]
    private var counters: [Int: Int] = [:]
    private var inbox: Set<String> = []
    /// The events queued by the repository.
    public nonisolated let outbox = MemoryOutboxStore()

    /// Creates an empty repository.
    public init() {}

    public func invoice(_ orders: [OrderToInvoice], taxRate: Decimal, at time: Date) async throws {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let year = calendar.component(.year, from: time)
        var events: [OutboxMessage] = []
        for entry in orders where inbox.insert(entry.event.id).inserted && byOrder[entry.order.orderID] == nil {
            let sequence = (counters[year] ?? 0) + 1
            counters[year] = sequence
            let invoice = Invoice(for: entry.order, id: UUID(), number: Invoice.number(year: year, sequence: sequence), taxRate: taxRate, issuedAt: time)
            invoices[invoice.id] = invoice
            byOrder[invoice.orderID] = invoice.id
            events.append(try OutboxMessage(
                CloudEvent(source: "/mercato/invoice-service", time: time, traceparent: entry.traceparent, data: invoice.created),
                appID: "invoice-service"))
        }
        outbox.append(events)
    }

    public func invoice(id: UUID) async throws -> Invoice? { invoices[id] }

    public func invoice(orderID: UUID) async throws -> Invoice? { byOrder[orderID].flatMap { invoices[$0] } }

    public func invoices(page: PageRequest) async throws -> [Invoice] {
        let sorted = invoices.values.sorted { ($0.issuedAt, $0.id.uuidString) < ($1.issuedAt, $1.id.uuidString) }
        let start = page.after.map { after in
            sorted.firstIndex { ($0.issuedAt, $0.id.uuidString) > (after.createdAt, after.id.uuidString) } ?? sorted.count
        } ?? 0
        return Array(sorted[start...].prefix(page.limit))
    }
}
