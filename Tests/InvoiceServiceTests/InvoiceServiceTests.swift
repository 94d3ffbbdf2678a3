import Contracts
import ContractTesting
import Foundation
@testable import InvoiceService
import ServiceKit
import Testing

@Suite(.timeLimit(.minutes(1)))
struct InvoiceServiceTests {
    let repository = MemoryInvoiceRepository()

    func order(_ lines: [(String, Int, String)], id: UUID = UUID()) -> OrderCreated {
        let items = lines.map { OrderLine(productName: $0.0, quantity: $0.1, unitPrice: Money($0.2)!) }
        return OrderCreated(orderID: id, customerID: UUID(), items: items, total: items.map(\.lineTotal).reduce(.zero, +), createdAt: Date())
    }

    func event(_ order: OrderCreated, id: String = UUID().uuidString) throws -> IncomingEvent {
        try IncomingEvent(CloudEvent(id: id, source: "/tests", traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", data: order))
    }

    @Test(arguments: [
        ("0.20", [("Beans", 2, "19.99"), ("Frother", 1, "4.50")], "44.48", "8.90", "53.38"),
        ("0.20", [("Pen", 1, "0.625")], "0.625", "0.13", "0.755"),
        ("0.075", [("Book", 3, "10.00")], "30.00", "2.25", "32.25"),
        ("0.19", [("A", 1, "0.05")], "0.05", "0.01", "0.06"),
        ("0", [("Free", 1, "0")], "0.00", "0.00", "0.00"),
    ])
    func computesExactAmounts(rate: String, lines: [(String, Int, String)], subtotal: String, tax: String, total: String) {
        let invoice = Invoice(for: order(lines), id: UUID(), number: "INV-2026-000001", taxRate: Decimal(string: rate)!, issuedAt: Date())
        #expect(invoice.subtotal == Money(subtotal))
        #expect(invoice.tax == Money(tax))
        #expect(invoice.total == Money(total))
    }

    /// `invoices.tax_rate` is `numeric(6,4)`: a rate with more decimals would be stored
    /// rounded and applied in full, so the stored invoice would disagree with its own sums.
    @Test(arguments: ["0.12345", "0.20001", "0.000001"])
    func aTaxRateWithMoreThanFourDecimalsIsRefusedAtStart(rate: String) {
        let environment = EnvironmentReader(["AUTH_JWT_SECRET": String(repeating: "k", count: 40), "TAX_RATE": rate])
        #expect { try InvoiceServiceConfiguration(environment: environment) } throws: { ($0 as? ConfigurationError)?.variable == "TAX_RATE" }
    }

    @Test func aTaxRateWithFourDecimalsIsTaken() throws {
        let environment = EnvironmentReader(["AUTH_JWT_SECRET": String(repeating: "k", count: 40), "TAX_RATE": "0.1925"])
        #expect(try InvoiceServiceConfiguration(environment: environment).taxRate == Decimal(string: "0.1925")!)
    }

    @Test func numbersHaveTheYearAndSixDigits() {
        #expect(Invoice.number(year: 2026, sequence: 42) == "INV-2026-000042")
        #expect(Invoice.number(year: 2026, sequence: 1_234_567) == "INV-2026-1234567")
    }

    /// The repository contract, against the in-memory repository (PostgreSQL's runs in
    /// ServiceIntegrationTests).
    @Test(arguments: InvoiceRepositoryContract.checks)
    func memoryRepository(_ check: ContractCheck<InvoiceStore>) async throws {
        let repository = MemoryInvoiceRepository(stamp: InvoiceRepositoryContract.stamp)
        try await check.run(InvoiceStore(repository: repository, pendingEvents: { repository.outbox.pending }))
    }

    @Test func theHandlerInvoicesWhatAddsUp() async throws {
        let handler = InvoicingHandler(repository: repository, terms: InvoicingTerms(taxRate: Decimal(string: "0.20")!, paymentDue: .seconds(3600)))
        let tea = order([("Tea", 1, "3.00")])
        try await handler.apply([try event(tea)])
        #expect(try await repository.invoice(orderID: tea.orderID)?.total == Money("3.60"))
    }

    @Test func anOrderThatDoesNotAddUpIsPoison() async throws {
        let handler = InvoicingHandler(repository: repository, terms: InvoicingTerms(taxRate: 0, paymentDue: .seconds(3600)))
        var bad = order([("Tea", 1, "3.00")])
        bad.total = Money("4.00")!
        await #expect(throws: PoisonMessage.self) { try await handler.apply([try event(bad)]) }
        await #expect(throws: PoisonMessage.self) { try await handler.apply([try event(order([]))]) }
        #expect(repository.outbox.pending.isEmpty)
    }
}
