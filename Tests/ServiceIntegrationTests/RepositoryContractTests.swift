import ContractTesting
import Contracts
import Foundation
import MercatoTesting
import Postgres
import ServiceKit
import Testing

@testable import CatalogService
@testable import CustomerService
@testable import InvoiceService
@testable import OrderService

/// The repositories' contracts against PostgreSQL: the same checks the in-memory
/// repositories pass in the unit tests, each on a database of its own.
@Suite(.needsPostgres, .timeLimit(.minutes(3)))
struct RepositoryContractTests {
    @Test(arguments: OrderStorageContract.checks)
    func orderStorage(_ check: ContractCheck<OrderStorage>) async throws {
        let client = try await FreshDatabase.make("orders", migrations: OrderMigrations.all)
        try await check.run(
            OrderStorage(
                store: PostgresOrderStore(client: client, stamp: OrderStorageContract.stamp),
                replica: PostgresCustomerReplica(client: client), changeLog: PostgresOrderChangeLog(client: client),
                products: PostgresProductReplica(client: client),
                pendingEvents: { try await FreshDatabase.pendingEvents(client) }))
        await client.shutdown()
    }

    @Test(arguments: CustomerRepositoryContract.checks)
    func customerRepository(_ check: ContractCheck<CustomerStore>) async throws {
        let client = try await FreshDatabase.make("customers", migrations: CustomerMigrations.all)
        try await check.run(
            CustomerStore(
                repository: PostgresCustomerRepository(client: client, stamp: CustomerRepositoryContract.stamp),
                pendingEvents: { try await FreshDatabase.pendingEvents(client) }))
        await client.shutdown()
    }

    @Test(arguments: InvoiceStorageContract.checks)
    func invoiceStorage(_ check: ContractCheck<InvoiceStorage>) async throws {
        let client = try await FreshDatabase.make("invoices", migrations: InvoiceMigrations.all)
        try await check.run(
            InvoiceStorage(
                invoices: PostgresInvoiceStore(client: client, stamp: InvoiceStorageContract.stamp),
                payments: PostgresPaymentStore(client: client, stamp: InvoiceStorageContract.stamp),
                pendingEvents: { try await FreshDatabase.pendingEvents(client) }))
        await client.shutdown()
    }

    @Test(arguments: ProductStoreContract.checks)
    func productStore(_ check: ContractCheck<ProductStorage>) async throws {
        let client = try await FreshDatabase.make("catalog", migrations: CatalogMigrations.all)
        try await check.run(
            ProductStorage(
                store: PostgresProductStore(client: client, stamp: ProductStoreContract.stamp),
                pendingEvents: { try await FreshDatabase.pendingEvents(client) }))
        await client.shutdown()
    }

    @Test(arguments: StockStoreContract.checks + PurchaseOrderContract.checks)
    func stockStore(_ check: ContractCheck<StockStorage>) async throws {
        let client = try await FreshDatabase.make("catalog", migrations: CatalogMigrations.all, poolSize: 8)
        try await check.run(
            StockStorage(
                products: PostgresProductStore(client: client, stamp: ProductStoreContract.stamp),
                stock: PostgresStockStore(client: client, stamp: ProductStoreContract.stamp),
                purchaseOrders: PostgresPurchaseOrderStore(client: client, stamp: ProductStoreContract.stamp),
                pendingEvents: { try await FreshDatabase.pendingEvents(client) }))
        await client.shutdown()
    }

    @Test(arguments: SimulatedProviderLedgerContract.checks)
    func simulatedProviderLedger(_ check: ContractCheck<any SimulatedProviderLedger>) async throws {
        let client = try await FreshDatabase.make("invoices", migrations: InvoiceMigrations.all)
        try await check.run(PostgresSimulatedProviderLedger(client: client))
        await client.shutdown()
    }

    @Test(arguments: OutboxStoreContract.checks)
    func outboxStore(_ check: ContractCheck<OutboxStoreSubject>) async throws {
        let client = try await FreshDatabase.make("outbox", migrations: [])
        // PostgreSQL's now() cannot be stopped: a backoff of an hour is one no stall outlasts.
        let backoff = OutboxBackoff(first: .seconds(3600), longest: .seconds(3600))
        try await check.run(
            OutboxStoreSubject(
                store: PostgresOutboxStore(client: client, backoff: backoff),
                append: { messages in try await client.transaction { try await Outbox.append(messages, on: $0) } },
                letBackoffPass: {
                    try await client.query("UPDATE outbox SET next_attempt_at = now() WHERE published_at IS NULL")
                }))
        await client.shutdown()
    }

    /// A newer replica may write a status this version does not know: reading it fails
    /// loudly instead of showing the order as `created`.
    @Test func anUnknownOrderStatusIsAnError() async throws {
        let client = try await FreshDatabase.make("orders", migrations: OrderMigrations.all)
        let repository = PostgresOrderStore(client: client, stamp: OrderStorageContract.stamp)
        let time = millisecondNow()
        let order = Order(
            id: UUID(), customerID: UUID(), status: .created,
            items: [OrderLine(productName: "Tea", quantity: 1, unitPrice: Money("1.00")!)],
            total: Money("1.00")!, createdAt: time, updatedAt: time)
        _ = try await repository.place(order, idempotency: nil, traceparent: nil)
        try await client.query("ALTER TABLE orders DROP CONSTRAINT orders_status_check")
        try await client.query("UPDATE orders SET status = 'shipped' WHERE id = $1", order.id)
        await #expect { try await repository.order(id: order.id) } throws: {
            ($0 as? OrderStoreError)?.code == .unknownStatus
        }
        await #expect { try await repository.orders(page: PageRequest(), customerID: nil) } throws: {
            ($0 as? OrderStoreError)?.code == .unknownStatus
        }
        await client.shutdown()
    }

    /// Issue 23, item 3: `invoice.paid`'s transaction takes its xid when it claims its inbox
    /// row, before it waits for the order's lock, so it can hold an older xid than the
    /// `invoice.created` transaction that marked the order invoiced first. Changes numbered by
    /// xid then showed `order.paid` before `order.invoiced`: the history and the live stream
    /// ended on `invoiced` for a paid order.
    @Test func anOrdersChangesAreNumberedInTheOrderTheyHappenedWhateverTheirTransactionsXIDs() async throws {
        let client = try await FreshDatabase.make("orders", migrations: OrderMigrations.all)
        let repository = PostgresOrderStore(client: client, stamp: OrderStorageContract.stamp)
        let time = millisecondNow()
        let order = Order(
            id: UUID(), customerID: UUID(), status: .created,
            items: [OrderLine(productName: "Tea", quantity: 1, unitPrice: Money("1.00")!)],
            total: Money("1.00")!, createdAt: time, updatedAt: time)
        _ = try await repository.place(order, idempotency: nil, traceparent: nil)
        let changeLog = PostgresOrderChangeLog(client: client)
        let invoiceID = UUID()
        let created = InvoiceCreated(
            invoiceID: invoiceID, invoiceNumber: "INV-2026-000001", orderID: order.id, customerID: order.customerID,
            lines: [], subtotal: .zero,
            taxRate: 0, tax: .zero, total: .zero, issuedAt: Date())
        try await client.withConnection { paying in
            // The invoice.paid transaction: its xid first...
            try await paying.query("BEGIN")
            _ = try await paying.query("SELECT pg_current_xact_id()")
            // ...then invoice.created's, which marks the order invoiced and commits...
            try await repository.markInvoiced([
                InvoicedOrder(
                    event: try IncomingEvent(CloudEvent(source: "/tests", data: created)), orderID: order.id,
                    invoiceID: invoiceID,
                    invoiceNumber: "INV-2026-000001")
            ])
            // ...then invoice.paid gets the order's lock and marks it paid.
            try await paying.query(
                PostgresOrderStore.paidStatement, [order.id], [invoiceID], ["INV-2026-000001"], [Date()])
            try await paying.query("COMMIT")
        }
        try await waitUntil("the changes are numbered", timeout: .seconds(60)) { try await changeLog.settleChanges() }
        let history = try await changeLog.history(of: order.id)
        #expect(history.map(\.kind) == [.created, .invoiced, .paid], "\(history.map(\.kind))")
        #expect(history.map(\.previousStatus) == [nil, .created, .invoiced])
        #expect(history.map(\.sequence) == history.map(\.sequence).sorted())
        await client.shutdown()
    }
}
