import Broker
import BrokerTesting
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

@testable import CustomerService

@Suite(.timeLimit(.minutes(1)))
struct CustomerServiceTests {
    let repository = MemoryCustomerRepository()

    /// customer-service as it runs (every middleware, health, metrics, OpenAPI), over the
    /// in-memory repository and broker.
    func application(_ tokens: TestTokens) async throws -> ServiceApplication {
        try await CustomerServiceApp.build(
            try CustomerServiceConfiguration(environment: tokens.serviceEnvironment(["SEED_CUSTOMERS": "false"])),
            dependencies: .init(service: .inMemory(outbox: repository.outbox), repository: repository))
    }

    /// The repository contract, against the in-memory repository (PostgreSQL's runs in
    /// ServiceIntegrationTests).
    @Test(arguments: CustomerRepositoryContract.checks)
    func memoryRepository(_ check: ContractCheck<CustomerStore>) async throws {
        let repository = MemoryCustomerRepository(stamp: CustomerRepositoryContract.stamp)
        try await check.run(CustomerStore(repository: repository, pendingEvents: { repository.outbox.pending }))
    }

    /// The application a client reaches: health, metrics and the OpenAPI document are open,
    /// a method the document does not list is a 405 with the JSON error, a route without a
    /// token a 401, and readiness tells the (never started) database is not there.
    @Test func theApplicationServesTheCommonRoutesAndMiddleware() async throws {
        let tokens = TestTokens()
        try await application(tokens).expectCommonRoutes(tokens: tokens, unlisted: .delete, on: "/customers")
    }

    @Test func validatesNewCustomers() throws {
        #expect(try NewCustomer(name: "  Ada ", email: "ada@example.com", address: "London").validated().name == "Ada")
        let cases: [(NewCustomer, String)] = [
            (NewCustomer(name: "", email: "ada@example.com", address: "London"), "name"),
            (NewCustomer(name: "Ada", email: "not-an-email", address: "London"), "email"),
            (
                NewCustomer(name: "Ada", email: "ada@example.com", address: String(repeating: "x", count: 501)),
                "address"
            ),
            (NewCustomer(name: "A\u{7}da", email: "ada@example.com", address: "London"), "name"),
        ]
        for (input, field) in cases {
            #expect { try input.validated() } throws: { ($0 as? APIError)?.field == field }
        }
    }

    /// Storage's refusal reaches the client as a 409 naming the field.
    @Test func aTakenEmailIsA409NamingTheField() async throws {
        let tokens = TestTokens()
        let router = try await application(tokens)
        var headers = TestTokens.bearer(try await tokens.admin())
        headers[.contentType] = "application/json"
        func register(_ email: String) async throws -> TestResponse {
            try await router.respond(
                .post, "/customers", headers: headers,
                body: #"{"name": "Ada", "email": "\#(email)", "address": "London"}"#)
        }
        #expect(try await register("ada@example.com").status == .created)
        let conflict = try await register("ADA@example.com")
        #expect(conflict.status == .conflict && conflict.errorCode == "email_taken" && conflict.errorField == "email")
    }

    /// A customer's token names a real customer: the nil UUID as `sub` registers nobody (403
    /// naming `sub`), and a caller whose `sub` is no customer id lists nothing, even when a
    /// customer with the nil UUID exists (the filter such callers used to get).
    @Test func theNilUUIDIsNoCustomersIdAndACallerWhoIsNoCustomerListsNothing() async throws {
        let tokens = TestTokens()
        let router = try await application(tokens)
        let nilUUID = UUID(uuidString: "00000000-0000-0000-0000-000000000000")!
        var nilSubject = TestTokens.bearer(try await tokens.customer(nilUUID))
        nilSubject[.contentType] = "application/json"
        let registered = try await router.respond(
            .post, "/customers", headers: nilSubject,
            body: #"{"name": "Nil", "email": "nil@example.com", "address": "Nowhere"}"#)
        #expect(
            registered.status == .forbidden && registered.errorField == "sub",
            "\(String(decoding: registered.body, as: UTF8.self))")
        #expect(try await repository.customer(id: nilUUID) == nil, "the refused registration was written")

        // As if it had been registered before the fix (or put there by hand).
        _ = try await repository.create(
            NewCustomer(name: "Nil", email: "nil@example.com", address: "Nowhere"), id: nilUUID, at: Date(),
            traceparent: nil)
        let notACustomer = TestTokens.bearer(try await tokens.token(sub: "operator", scopes: Scope.customer))
        for (who, headers) in [("a sub that is no customer id", notACustomer), ("the nil UUID as sub", nilSubject)] {
            let list = try await router.respond(.get, "/customers", headers: headers)
            #expect(list.status == .ok && ((list.json as? [String: Any])?["data"] as? [Any])?.isEmpty == true, "\(who)")
            #expect(
                try await router.respond(.get, "/customers/\(nilUUID)", headers: headers).status == .notFound, "\(who)")
        }
    }

    @Test func consumesOrderCreatedFromTheBroker() async throws {
        let broker = InMemoryBroker(user: "order-service")
        try await broker.declare(.mercato())
        let id = CustomerSeeds.ids[0]
        _ = try await repository.seedIfEmpty(CustomerSeeds.customers, ids: CustomerSeeds.ids, at: Date())
        let event = CloudEvent(
            source: "/tests",
            data: OrderCreated(orderID: UUID(), customerID: id, items: [], total: .zero, createdAt: Date()))
        let message = OutboundMessage(
            exchange: ExchangeName.orders, routingKey: "order.created",
            properties: MessageProperties(
                contentType: CloudEvent<OrderCreated>.contentType, messageID: event.id, type: event.type),
            body: try EventCoding.makeEncoder().encode(event))
        try await broker.publish([message, message])  // the same event twice
        let readiness = Readiness()
        let consumer = EventConsumer(
            queue: QueueName.customerOrderCreated, handler: OrderCountingHandler(repository: repository),
            broker: broker,
            readiness: readiness, serviceName: "customer-service", logger: Logger(label: "tests"))
        readiness.markUp(Readiness.database)
        readiness.markUp(Readiness.broker)
        let running = Task { try await consumer.run() }
        // Both copies consumed and acknowledged: nothing waiting, nothing held.
        try await waitUntil("both deliveries to be settled") {
            let status = try await broker.inspect(queue: QueueName.customerOrderCreated)
            let unacknowledged = await broker.unacknowledgedCount(queue: QueueName.customerOrderCreated)
            return status == QueueStatus(messageCount: 0, consumerCount: 1) && unacknowledged == 0
        }
        running.cancel()
        #expect(try await repository.customer(id: id)?.ordersCount == 1)
    }
}

/// The order tally over every (state, change) pair: each order counts once and uncounts once.
@Suite(.timeLimit(.minutes(1)))
struct OrderTallyTests {
    @Test func everyTransition() {
        let states: [OrderTally.State?] = [nil] + OrderTally.State.allCases.map { $0 }
        for state in states {
            for change in [CountedOrder.Change.placed, .cancelled] {
                let (next, delta) = OrderTally.apply(change, to: state)
                switch (state, change) {
                case (nil, .placed): #expect(next == .counted && delta == 1)
                case (nil, .cancelled): #expect(next == .cancelledFirst && delta == 0)
                case (.counted?, .cancelled): #expect(next == .uncounted && delta == -1)
                case (.cancelledFirst?, .placed): #expect(next == .uncounted && delta == 0)
                default: #expect(next == nil && delta == 0, "\(String(describing: state)) on \(change)")
                }
            }
        }
    }

    @Test func bothOrdersOfArrivalEndAtZero() {
        for changes in [
            [CountedOrder.Change.placed, .cancelled], [.cancelled, .placed],
            [.placed, .placed, .cancelled, .cancelled],
        ] {
            var state: OrderTally.State?
            var total = 0
            for change in changes {
                let (next, delta) = OrderTally.apply(change, to: state)
                if let next { state = next }
                total += delta
            }
            #expect(total == 0 && state == .uncounted)
        }
    }
}
