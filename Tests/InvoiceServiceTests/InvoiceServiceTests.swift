import ContractTesting
import Contracts
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import MercatoTesting
import ServiceKit
import ServiceTesting
import Testing

@testable import InvoiceService

@Suite(.timeLimit(.minutes(1)))
struct InvoiceServiceTests {
    let storage = MemoryInvoiceStorage()

    /// invoice-service as it runs (every middleware, health, metrics, OpenAPI), over the
    /// in-memory storage, broker and provider ledger.
    func application(_ tokens: TestTokens) async throws -> ServiceApplication {
        try await InvoiceServiceApp.build(
            try InvoiceServiceConfiguration(environment: tokens.serviceEnvironment()),
            dependencies: .init(
                service: .inMemory(outbox: storage.outbox), invoices: storage, payments: storage,
                ledger: MemorySimulatedProviderLedger()))
    }

    /// The application a client reaches: health (with the payment circuit's state), metrics
    /// and the OpenAPI document are open, a method the document does not list is a 405 with
    /// the JSON error, a route without a token a 401.
    @Test func theApplicationServesTheCommonRoutesAndMiddleware() async throws {
        let tokens = TestTokens()
        let ready = try await application(tokens).expectCommonRoutes(tokens: tokens, unlisted: .delete, on: "/invoices")
        #expect(((ready.json as? [String: Any])?["details"] as? [String: String])?["payment.circuit"] == "closed")
    }

    func order(_ lines: [(String, Int, String)], id: UUID = UUID()) -> OrderCreated {
        let items = lines.map { OrderLine(productName: $0.0, quantity: $0.1, unitPrice: Money($0.2)!) }
        return OrderCreated(
            orderID: id, customerID: UUID(), items: items, total: items.map(\.lineTotal).reduce(.zero, +),
            createdAt: Date())
    }

    /// The `stock.reserved` that has `order` invoiced.
    func event(_ order: OrderCreated, id: String = UUID().uuidString) throws -> IncomingEvent {
        try IncomingEvent(
            CloudEvent(
                id: id, source: "/tests", traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                data: StockReserved(order, at: Date())))
    }

    @Test(arguments: [
        ("0.20", [("Beans", 2, "19.99"), ("Frother", 1, "4.50")], "44.48", "8.90", "53.38"),
        ("0.20", [("Pen", 1, "0.625")], "0.625", "0.13", "0.755"),
        ("0.075", [("Book", 3, "10.00")], "30.00", "2.25", "32.25"),
        ("0.19", [("A", 1, "0.05")], "0.05", "0.01", "0.06"),
        ("0", [("Free", 1, "0")], "0.00", "0.00", "0.00"),
    ])
    func computesExactAmounts(
        rate: String, lines: [(String, Int, String)], subtotal: String, tax: String, total: String
    ) {
        let invoice = Invoice(
            for: order(lines), id: UUID(), number: "INV-2026-000001", taxRate: Decimal(string: rate)!, issuedAt: Date())
        #expect(invoice.subtotal == Money(subtotal))
        #expect(invoice.tax == Money(tax))
        #expect(invoice.total == Money(total))
    }

    /// `invoices.tax_rate` is `numeric(6,4)`: a rate with more decimals would be stored
    /// rounded and applied in full, so the stored invoice would disagree with its own sums.
    @Test(arguments: ["0.12345", "0.20001", "0.000001"])
    func aTaxRateWithMoreThanFourDecimalsIsRefusedAtStart(rate: String) {
        let environment = EnvironmentReader(["AUTH_JWT_SECRET": String(repeating: "k", count: 40), "TAX_RATE": rate])
        #expect { try InvoiceServiceConfiguration(environment: environment) } throws: {
            ($0 as? ConfigurationError)?.variable == "TAX_RATE"
        }
    }

    @Test func aTaxRateWithFourDecimalsIsTaken() throws {
        let environment = EnvironmentReader([
            "AUTH_JWT_SECRET": String(repeating: "k", count: 40), "TAX_RATE": "0.1925",
        ])
        #expect(try InvoiceServiceConfiguration(environment: environment).taxRate == Decimal(string: "0.1925")!)
    }

    @Test func numbersHaveTheYearAndSixDigits() {
        #expect(Invoice.number(year: 2026, sequence: 42) == "INV-2026-000042")
        #expect(Invoice.number(year: 2026, sequence: 1_234_567) == "INV-2026-1234567")
    }

    /// The storage contract, against the in-memory storage (PostgreSQL's runs in
    /// ServiceIntegrationTests).
    @Test(arguments: InvoiceStorageContract.checks)
    func memoryStorage(_ check: ContractCheck<InvoiceStorage>) async throws {
        let storage = MemoryInvoiceStorage(stamp: InvoiceStorageContract.stamp)
        try await check.run(
            InvoiceStorage(invoices: storage, payments: storage, pendingEvents: { storage.outbox.pending }))
    }

    @Test func theHandlerInvoicesWhatAddsUp() async throws {
        let handler = InvoicingHandler(
            invoices: storage, terms: InvoicingTerms(taxRate: Decimal(string: "0.20")!, paymentDue: .seconds(3600))
        )
        let tea = order([("Tea", 1, "3.00")])
        try await handler.apply([try event(tea)])
        #expect(try await storage.invoice(orderID: tea.orderID)?.total == Money("3.60"))
    }

    @Test func anOrderThatDoesNotAddUpIsPoison() async throws {
        let handler = InvoicingHandler(
            invoices: storage, terms: InvoicingTerms(taxRate: 0, paymentDue: .seconds(3600)))
        var bad = order([("Tea", 1, "3.00")])
        bad.total = Money("4.00")!
        await #expect(throws: PoisonMessage.self) { try await handler.apply([try event(bad)]) }
        await #expect(throws: PoisonMessage.self) { try await handler.apply([try event(order([]))]) }
        #expect(storage.outbox.pending.isEmpty)
    }

    /// A caller who may see no customer lists no invoice, even one of the nil UUID's customer
    /// (the filter such callers used to get): by construction, not by a filter no row matches.
    @Test func aCallerWhoMaySeeNoCustomerListsNoInvoiceEvenOfTheNilUUID() async throws {
        let nilUUID = UUID(uuidString: "00000000-0000-0000-0000-000000000000")!
        var created = order([("Tea", 1, "3.00")])
        created.customerID = nilUUID
        try await storage.invoice(
            [OrderToInvoice(event: try event(created), order: created, traceparent: nil)],
            terms: .init(taxRate: 0, paymentDue: .seconds(60)), at: Date())
        let tokens = TestTokens()
        let router = try await application(tokens)
        let notACustomer = TestTokens.bearer(try await tokens.token(sub: "operator", scopes: Scope.customer))
        let nilSubject = TestTokens.bearer(try await tokens.customer(nilUUID))
        for (who, headers) in [("a sub that is no customer id", notACustomer), ("the nil UUID as sub", nilSubject)] {
            for path in ["/invoices", "/invoices?order_id=\(created.orderID)"] {
                let list = try await router.respond(.get, path, headers: headers)
                #expect(list.status == .ok, "\(who): \(path)")
                #expect(
                    ((list.json as? [String: Any])?["data"] as? [Any])?.isEmpty == true,
                    "\(who) saw \(String(decoding: list.body, as: UTF8.self))")
            }
        }
        let admin = try await router.respond(.get, "/invoices", headers: TestTokens.bearer(try await tokens.admin()))
        #expect(((admin.json as? [String: Any])?["data"] as? [Any])?.count == 1)
    }
}
