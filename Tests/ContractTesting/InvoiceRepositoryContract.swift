import Contracts
import Foundation
public import InvoiceService
import MercatoTesting
public import ServiceKit
import Testing

/// An invoice repository under test, with a view of the events it queued.
public struct InvoiceStore: Sendable {
    /// The repository.
    public var repository: any InvoiceRepository
    /// The events it queued and nobody published yet, oldest first.
    public var pendingEvents: @Sendable () async throws -> [OutboxMessage]

    /// Creates the subject.
    public init(repository: any InvoiceRepository, pendingEvents: @escaping @Sendable () async throws -> [OutboxMessage]) {
        self.repository = repository
        self.pendingEvents = pendingEvents
    }
}

/// What every ``InvoiceRepository`` does — PostgreSQL's and the in-memory one alike.
public enum InvoiceRepositoryContract {
    /// The stamp the contract's repositories are created with.
    public static let stamp = EventStamp(serviceName: "invoice-service")

    static func order(_ lines: [(String, Int, String)] = [("Tea", 1, "3.00")]) -> OrderCreated {
        let items = lines.map { OrderLine(productName: $0.0, quantity: $0.1, unitPrice: Money($0.2)!) }
        return OrderCreated(orderID: UUID(), customerID: UUID(), items: items, total: items.map(\.lineTotal).reduce(.zero, +), createdAt: Date())
    }

    static func toInvoice(_ order: OrderCreated, id: String = UUID().uuidString) throws -> OrderToInvoice {
        let event = try IncomingEvent(CloudEvent(id: id, source: "/tests", traceparent: testTraceparent, data: order))
        return OrderToInvoice(event: event, order: order, traceparent: testTraceparent)
    }

    static func sequences(_ invoices: [Invoice]) -> [Int] {
        invoices.compactMap { Int($0.number.split(separator: "-").last ?? "") }.sorted()
    }

    /// Every check.
    public static let checks: [ContractCheck<InvoiceStore>] = [
        ContractCheck("each order gets one invoice, numbered without gaps, however often its event arrives") { store in
            let time = millisecondNow()
            let year = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: time).year!
            let (first, second, third) = (order(), order([("Coffee", 2, "2.50")]), order())
            let firstEvent = try toInvoice(first)
            try await store.repository.invoice([firstEvent, try toInvoice(second), firstEvent], taxRate: Decimal(string: "0.20")!, at: time)
            try await store.repository.invoice([firstEvent], taxRate: Decimal(string: "0.20")!, at: time)  // redelivered
            try await store.repository.invoice([try toInvoice(first)], taxRate: Decimal(string: "0.20")!, at: time)  // same order, new event id
            try await store.repository.invoice([try toInvoice(third)], taxRate: Decimal(string: "0.20")!, at: time)
            let invoices = try await [first, second, third].asyncMap { try #require(try await store.repository.invoice(orderID: $0.orderID)) }
            #expect(invoices.map(\.number) == (1...3).map { Invoice.number(year: year, sequence: $0) })
            let coffee = invoices[1]
            #expect(coffee.subtotal == Money("5.00") && coffee.tax == Money("1.00") && coffee.total == Money("6.00") && coffee.lines == second.items)
            #expect(try await store.repository.invoice(id: coffee.id)?.number == coffee.number)
            #expect(try await store.repository.invoice(id: UUID()) == nil)
            #expect(try await store.repository.invoice(orderID: UUID()) == nil)
            let events = try await store.pendingEvents()
            #expect(events.map(\.eventType) == Array(repeating: "invoice.created", count: 3))
            let event = try EventCoding.makeDecoder().decode(CloudEvent<InvoiceCreated>.self, from: events[1].body)
            var expected = coffee.createdEvent
            expected.issuedAt = event.data.issuedAt
            #expect(event.data == expected && sameInstant(event.data.issuedAt, coffee.issuedAt))
            #expect(event.traceparent == testTraceparent && event.source == stamp.source)
        },
        ContractCheck("batches invoicing at the same time share one gapless sequence") { store in
            let batches = (0..<4).map { _ in (0..<15).map { _ in order() } }
            let time = millisecondNow()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for batch in batches {
                    group.addTask { try await store.repository.invoice(try batch.map { try toInvoice($0) }, taxRate: 0, at: time) }
                }
                try await group.waitForAll()
            }
            var invoices: [Invoice] = []
            var request = PageRequest(limit: 100)
            while true {
                let page = try await store.repository.invoices(page: request, customerID: nil)
                invoices += page
                guard page.count == request.limit, let last = page.last else { break }
                request.after = PageCursor(time: last.issuedAt, id: last.id)
            }
            #expect(sequences(invoices) == Array(1...60))
            #expect(Set(invoices.map(\.orderID)) == Set(batches.joined().map(\.orderID)))
        },
        ContractCheck("pages run oldest first and follow each other without repeats") { store in
            let start = millisecondNow(plus: -100)
            for index in 0..<7 {
                try await store.repository.invoice([try toInvoice(order())], taxRate: 0, at: start + Double(index / 2))
            }
            var request = PageRequest(limit: 3)
            var seen: [Invoice] = []
            while true {
                let page = try await store.repository.invoices(page: request, customerID: nil)
                seen += page
                guard page.count == request.limit, let last = page.last else { break }
                request.after = PageCursor(time: last.issuedAt, id: last.id)
            }
            let key = { (invoice: Invoice) in PageCursor(time: invoice.issuedAt, id: invoice.id) }
            #expect(seen.count == 7 && seen.map(key) == seen.map(key).sorted())
        },
        ContractCheck("a customer's page holds that customer's invoices only") { store in
            let mine = order(), theirs = order()
            try await store.repository.invoice([try toInvoice(mine), try toInvoice(theirs)], taxRate: 0, at: millisecondNow())
            let page = try await store.repository.invoices(page: PageRequest(limit: 10), customerID: mine.customerID)
            #expect(page.map(\.orderID) == [mine.orderID])
        },
    ]
}

extension Sequence {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var result: [T] = []
        for element in self { result.append(try await transform(element)) }
        return result
    }
}
