import ContractTesting
import Contracts
import Foundation
import MercatoTesting
import Postgres
import ServiceKit
import Testing

@testable import CustomerService
@testable import InvoiceService
@testable import OrderService

/// The repositories' contracts against PostgreSQL: the same checks the in-memory
/// repositories pass in the unit tests, each on a database of its own.
@Suite(.needsPostgres, .timeLimit(.minutes(3)))
struct RepositoryContractTests {
    @Test(arguments: OrderRepositoryContract.checks)
    func orderRepository(_ check: ContractCheck<OrderStore>) async throws {
        let client = try await FreshDatabase.make("orders", migrations: OrderMigrations.all)
        try await check.run(
            OrderStore(
                repository: PostgresOrderRepository(client: client, stamp: OrderRepositoryContract.stamp),
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

    @Test(arguments: InvoiceRepositoryContract.checks)
    func invoiceRepository(_ check: ContractCheck<InvoiceStore>) async throws {
        let client = try await FreshDatabase.make("invoices", migrations: InvoiceMigrations.all)
        try await check.run(
            InvoiceStore(
                repository: PostgresInvoiceRepository(client: client, stamp: InvoiceRepositoryContract.stamp),
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
                letBackoffPass: { try await client.query("UPDATE outbox SET next_attempt_at = now() WHERE published_at IS NULL") }))
        await client.shutdown()
    }

    /// A newer replica may write a status this version does not know: reading it fails
    /// loudly instead of showing the order as `created`.
    @Test func anUnknownOrderStatusIsAnError() async throws {
        let client = try await FreshDatabase.make("orders", migrations: OrderMigrations.all)
        let repository = PostgresOrderRepository(client: client, stamp: OrderRepositoryContract.stamp)
        let time = millisecondNow()
        let order = Order(
            id: UUID(), customerID: UUID(), status: .created, items: [OrderLine(productName: "Tea", quantity: 1, unitPrice: Money("1.00")!)],
            total: Money("1.00")!, createdAt: time, updatedAt: time)
        _ = try await repository.place(order, idempotency: nil, traceparent: nil)
        try await client.query("ALTER TABLE orders DROP CONSTRAINT orders_status_check")
        try await client.query("UPDATE orders SET status = 'shipped' WHERE id = $1", order.id)
        await #expect { try await repository.order(id: order.id) } throws: { ($0 as? OrderStoreError)?.code == .unknownStatus }
        await #expect { try await repository.orders(page: PageRequest(), customerID: nil) } throws: {
            ($0 as? OrderStoreError)?.code == .unknownStatus
        }
        await client.shutdown()
    }
}
