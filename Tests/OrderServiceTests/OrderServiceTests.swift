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

@testable import OrderService

@Suite(.timeLimit(.minutes(1)))
struct OrderServiceTests {
    let storage = MemoryOrderStorage()

    func item(_ sku: String = "TEA-1", _ quantity: Int = 1) -> NewOrder.Item {
        NewOrder.Item(sku: sku, quantity: quantity)
    }

    static func product(
        _ sku: String, price: String = "3.50", available: Int = 100, active: Bool = true, name: String = "Tea"
    ) -> ProductSnapshot {
        ProductSnapshot(
            sku: sku, name: name, price: Money(price)!, active: active, available: available, version: 1,
            updatedAt: Date())
    }

    /// The application a client reaches: health, metrics and the OpenAPI document are open,
    /// a method the document does not list is a 405 with the JSON error, a route without a
    /// token a 401, and readiness tells the (never started) database is not there.
    @Test func theApplicationServesTheCommonRoutesAndMiddleware() async throws {
        let tokens = TestTokens()
        let app = try await orderApplication(tokens, storage: storage)
        try await app.expectCommonRoutes(tokens: tokens, unlisted: .put, on: "/orders")
        #expect(try await app.respond(.get, "/live").status == .ok)
    }

    @Test func validatesOrders() throws {
        let customer = UUID()
        let valid = try NewOrder(customerID: customer, items: [item(" tea-1 ", 2)]).validated()
        #expect(valid.items[0].sku == "TEA-1")
        #expect(valid.quantities == ["TEA-1": 2])
        let cases: [(NewOrder, String)] = [
            (NewOrder(customerID: customer, items: []), "items"),
            (NewOrder(customerID: customer, items: Array(repeating: item(), count: 101)), "items"),
            (NewOrder(customerID: customer, items: [item(), item("TEA-1", 0)]), "items[1].quantity"),
            (NewOrder(customerID: customer, items: [item("TEA-1", 10_001)]), "items[0].quantity"),
            (NewOrder(customerID: customer, items: [item("", 1)]), "items[0].sku"),
            (NewOrder(customerID: customer, items: [item("TEA 1", 1)]), "items[0].sku"),
            (NewOrder(customerID: customer, items: [item(String(repeating: "X", count: 65))]), "items[0].sku"),
        ]
        for (order, field) in cases {
            #expect { try order.validated() } throws: {
                ($0 as? APIError)?.field == field && ($0 as? APIError)?.code == "validation_failed"
            }
        }
    }

    /// Each line is named and priced as the catalog says, whatever the client would like.
    @Test func linesAreNamedAndPricedByTheCatalog() throws {
        let new = try NewOrder(customerID: UUID(), items: [item("TEA-1", 2), item("CUP", 1), item("TEA-1", 1)])
            .validated()
        let order = try new.order(
            pricedBy: [
                "TEA-1": Self.product("TEA-1", price: "3.50"), "CUP": Self.product("CUP", price: "12.00", name: "Cup"),
            ],
            at: Date())
        #expect(order.items.map(\.sku) == ["TEA-1", "CUP", "TEA-1"])
        #expect(order.items.map(\.productName) == ["Tea", "Cup", "Tea"])
        #expect(order.items.map(\.lineTotal) == [Money("7.00")!, Money("12.00")!, Money("3.50")!])
        #expect(order.total == Money("22.50") && new.quantities == ["TEA-1": 3, "CUP": 1])
    }

    /// Every order that is placed fits orders.total numeric(14,2); the largest the line limits
    /// and prices allow (100 × 10,000 × 1,000,000.00) does not, so it is a 422, not a 500.
    @Test func anOrderOverTheLargestTotalIsRefusedNamingItsItems() throws {
        let gold = ["GOLD": Self.product("GOLD", price: "1000000", available: 10_000_000)]
        let largest = NewOrder(
            customerID: UUID(), items: Array(repeating: item("GOLD", 10_000), count: NewOrder.maxItems))
        #expect { try largest.validated().order(pricedBy: gold, at: Date()) } throws: {
            ($0 as? APIError)?.field == "items" && ($0 as? APIError)?.code == "validation_failed"
        }
        let justUnder = NewOrder(
            customerID: UUID(), items: [item("GOLD", 9_999)] + Array(repeating: item("GOLD", 10_000), count: 99))
        #expect(try justUnder.validated().order(pricedBy: gold, at: Date()).total == Money("999999000000"))
    }

    @Test func decodingNamesTheField() throws {
        let decoder = EventCoding.makeDecoder()
        func field(_ json: String) -> String? {
            do {
                _ = try decoder.decode(NewOrder.self, from: Data(json.utf8))
                return nil
            } catch let error as DecodingError {
                return APIError(decoding: error).field
            } catch { return nil }
        }
        let id = UUID().uuidString
        #expect(field(#"{"customer_id":"nope","items":[]}"#) == "customer_id")
        #expect(field(#"{"customer_id":"\#(id)","items":[{"sku":"A","quantity":1.5}]}"#) == "items[0].quantity")
        #expect(field(#"{"customer_id":"\#(id)","items":[{"sku":"A","quantity":1e30}]}"#) == "items[0].quantity")
        // Valid JSON numbers beyond Decimal's range.
        #expect(field(#"{"customer_id":"\#(id)","items":[{"sku":"A","quantity":1e+308}]}"#) == "items[0].quantity")
        #expect(field(#"{"customer_id":"\#(id)","items":[{"quantity":1}]}"#) == "items[0].sku")
        // A client may no longer name its price, nor its product's name.
        #expect(
            field(#"{"customer_id":"\#(id)","items":[{"sku":"A","quantity":1,"unit_price":"0.01"}]}"#)
                == "items[0].unit_price")
        #expect(
            field(#"{"customer_id":"\#(id)","items":[{"product_name":"Tea","quantity":1,"unit_price":"3.50"}]}"#)
                == "items[0].unit_price")
        #expect(
            field(#"{"customer_id":"\#(id)","items":[{"sku":"A","product_name":"B","quantity":1}]}"#)
                == "items[0].product_name")
        #expect(field(#"{"items":[]}"#) == "customer_id")
    }

    @Test func equivalentRequestsHaveTheSameCanonicalForm() throws {
        let customer = UUID()
        let a = try NewOrder(customerID: customer, items: [item("tea-1", 1)]).validated()
        let b = try NewOrder(customerID: customer, items: [item("TEA-1 ", 1)]).validated()
        let c = try NewOrder(customerID: customer, items: [item("TEA-1", 2)]).validated()
        #expect(a.canonicalJSON == b.canonicalJSON)
        #expect(a.canonicalJSON != c.canonicalJSON)
    }

    /// The storage contract, against the in-memory store, replica and change log
    /// (PostgreSQL's run in ServiceIntegrationTests).
    @Test(arguments: OrderStorageContract.checks)
    func memoryStorage(_ check: ContractCheck<OrderStorage>) async throws {
        let memory = MemoryOrderStorage(stamp: OrderStorageContract.stamp)
        try await check.run(
            OrderStorage(
                store: memory.store, replica: memory.replica, changeLog: memory.changeLog, products: memory.products,
                pendingEvents: { memory.outbox.pending }))
    }

    @Test func theHandlersApplyInvoiceAndCustomerEvents() async throws {
        let time = Date()
        let order = Order(
            id: UUID(), customerID: UUID(), status: .created,
            items: [OrderLine(productName: "Tea", quantity: 1, unitPrice: Money("1.00")!)],
            total: Money("1.00")!, createdAt: time, updatedAt: time)
        _ = try await storage.store.place(order, idempotency: nil, traceparent: nil)
        let invoice = InvoiceCreated(
            invoiceID: UUID(), invoiceNumber: "INV-2026-000001", orderID: order.id, customerID: order.customerID,
            lines: order.items,
            subtotal: order.total, taxRate: 0, tax: .zero, total: order.total, issuedAt: time)
        try await InvoiceCreatedHandler(store: storage.store).apply([
            try IncomingEvent(CloudEvent(source: "/tests", data: invoice))
        ])
        #expect(try await storage.store.order(id: order.id)?.invoiceNumber == "INV-2026-000001")
        let customer = CustomerSnapshot(
            customerID: order.customerID, name: "Ada", email: "ada@example.com", address: "x", ordersCount: 1,
            version: 2, updatedAt: time)
        try await CustomerEventsHandler(replica: storage.replica).apply([
            try IncomingEvent(CloudEvent(source: "/tests", data: CustomerUpdated(customer: customer)))
        ])
        #expect(try await storage.replica.customer(id: order.customerID)?.version == 2)
    }

    /// The catalog decides what an order costs and whether it may be placed: a customer token
    /// can no longer set a price, an unknown or inactive SKU is a 422 naming the line, more than
    /// is available a 409 naming every short SKU, and a refused order writes nothing.
    @Test func theCatalogPricesOrdersAndRefusesWhatIsNotForSaleOrNotInStock() async throws {
        let customer = CustomerSnapshot(
            customerID: UUID(), name: "Ada", email: "ada@example.com", address: "x", ordersCount: 0, version: 1,
            updatedAt: Date())
        try await storage.replica.saveCustomers([customer], events: [])
        try await storage.products.saveProducts(
            [
                Self.product("TEA-1", price: "4.20", available: 5), Self.product("CUP", price: "9.99", available: 1),
                Self.product("OLD", active: false),
            ], events: [])
        let tokens = TestTokens()
        let router = try await orderApplication(tokens, storage: storage)
        var headers = TestTokens.bearer(try await tokens.customer(customer.customerID))
        headers[.contentType] = "application/json"
        func post(_ items: String) async throws -> TestResponse {
            try await router.respond(
                .post, "/orders", headers: headers,
                body: #"{"customer_id": "\#(customer.customerID)", "items": \#(items)}"#)
        }
        let placed = try await post(#"[{"sku": "tea-1", "quantity": 2}, {"sku": "CUP", "quantity": 1}]"#)
        #expect(placed.status == .created)
        let body = try #require(placed.json as? [String: Any])
        #expect(body["total"] as? String == "18.39")
        let lines = try #require(body["items"] as? [[String: Any]])
        #expect(lines.map { $0["sku"] as? String } == ["TEA-1", "CUP"])
        #expect(lines.map { $0["unit_price"] as? String } == ["4.20", "9.99"])

        let priced = try await post(#"[{"sku": "TEA-1", "quantity": 1, "unit_price": "0.01"}]"#)
        #expect(priced.status == .unprocessableContent && priced.errorField == "items[0].unit_price")
        let unknown = try await post(#"[{"sku": "TEA-1", "quantity": 1}, {"sku": "NOPE", "quantity": 1}]"#)
        #expect(unknown.status == .unprocessableContent && unknown.errorField == "items[1].sku")
        let inactive = try await post(#"[{"sku": "OLD", "quantity": 1}]"#)
        #expect(inactive.status == .unprocessableContent && inactive.errorField == "items[0].sku")
        let short = try await post(
            #"[{"sku": "TEA-1", "quantity": 3}, {"sku": "CUP", "quantity": 2}, {"sku": "TEA-1", "quantity": 3}]"#)
        #expect(
            short.status == .conflict && short.errorCode == "out_of_stock" && short.errorField == "items[0].quantity")
        let message = ((short.json as? [String: Any])?["error"] as? [String: Any])?["message"] as? String ?? ""
        #expect(
            message.contains("CUP (2 asked for, 1 available)") && message.contains("TEA-1 (6 asked for, 5 available)"))
        let orders = try await storage.store.orders(page: PageRequest(limit: 10), customerID: nil)
        #expect(orders.count == 1, "only the first order was written")
        #expect(storage.outbox.pending.filter { $0.eventType == "order.created" }.count == 1)
    }

    /// A product added a moment ago, not in the replica yet, is asked of catalog-service and
    /// remembered; one catalog-service does not know is a 422.
    @Test func aProductTheReplicaLacksIsAskedOfTheCatalog() async throws {
        struct Catalog: ProductDirectory {
            func product(sku: String, token: String) async throws -> ProductSnapshot? {
                sku == "NEW" ? OrderServiceTests.product("NEW", price: "2.00") : nil
            }
        }
        let pricing = OrderPricing(replica: storage.products, directory: Catalog(), logger: Logger(label: "test"))
        let new = try NewOrder(customerID: UUID(), items: [item("NEW", 2)]).validated()
        #expect(try await pricing.products(for: new, token: "t")["NEW"]?.price == Money("2.00"))
        #expect(try await storage.products.products(skus: ["NEW"])["NEW"] != nil)
        let unknown = try NewOrder(customerID: UUID(), items: [item("GONE", 1)]).validated()
        await #expect { try await pricing.products(for: unknown, token: "t") } throws: {
            ($0 as? APIError)?.field == "items[0].sku"
        }
    }

    /// An order whose stock was refused is cancelled (reason out_of_stock) once, through the
    /// one cancellation path: its order.cancelled gives back the count and voids an invoice.
    @Test func aStockRejectionCancelsTheOrderOnce() async throws {
        let time = Date()
        let order = Order(
            id: UUID(), customerID: UUID(), status: .created,
            items: [OrderLine(sku: "TEA-1", productName: "Tea", quantity: 1, unitPrice: Money("1.00")!)],
            total: Money("1.00")!, createdAt: time, updatedAt: time)
        _ = try await storage.store.place(order, idempotency: nil, traceparent: nil)
        let rejection = try IncomingEvent(
            CloudEvent(
                source: "/tests",
                data: StockRejected(
                    orderID: order.id, customerID: order.customerID,
                    shortages: [.init(sku: "TEA-1", requested: 1, available: 0)], rejectedAt: time)))
        let handler = StockRejectedHandler(store: storage.store)
        try await handler.apply([rejection])
        try await handler.apply([rejection])
        #expect(try await storage.store.order(id: order.id)?.status == .cancelled)
        let cancellations = storage.outbox.pending.filter { $0.eventType == "order.cancelled" }
        #expect(cancellations.count == 1)
        let cancelled = try EventCoding.makeDecoder().decode(
            CloudEvent<OrderCancelled>.self, from: try #require(cancellations.first).body)
        #expect(cancelled.data.reason == .outOfStock)
        let stranger = try IncomingEvent(
            CloudEvent(
                source: "/tests",
                data: StockRejected(orderID: UUID(), customerID: UUID(), shortages: [], rejectedAt: time)))
        await #expect(throws: OrderStoreError.self) { try await handler.apply([stranger]) }
    }

    /// Storage's refusals reach clients as HTTP answers naming the field.
    @Test func aReusedIdempotencyKeyIsA409NamingTheHeader() async throws {
        let customer = CustomerSnapshot(
            customerID: UUID(), name: "Ada", email: "ada@example.com", address: "x", ordersCount: 0, version: 1,
            updatedAt: Date())
        try await storage.replica.saveCustomers([customer], events: [])
        try await storage.products.saveProducts([Self.product("TEA-1")], events: [])
        let tokens = TestTokens()
        let router = try await orderApplication(tokens, storage: storage)
        var headers = TestTokens.bearer(try await tokens.customer(customer.customerID))
        headers[.contentType] = "application/json"
        headers[HTTPField.Name("Idempotency-Key")!] = "k-1"
        func post(quantity: Int) async throws -> TestResponse {
            try await router.respond(
                .post, "/orders", headers: headers,
                body:
                    #"{"customer_id": "\#(customer.customerID)", "items": [{"sku": "TEA-1", "quantity": \#(quantity)}]}"#
            )
        }
        #expect(try await post(quantity: 1).status == .created)
        #expect(try await post(quantity: 1).status == .created)
        let conflict = try await post(quantity: 2)
        #expect(
            conflict.status == .conflict && conflict.errorCode == "idempotency_key_reused"
                && conflict.errorField == "Idempotency-Key")
    }
}

/// A customer-service that knows nobody.
/// order-service as it runs (every middleware, health, metrics, OpenAPI, the live view), over
/// `storage` and the in-memory broker, with no customer directory to fall back on.
func orderApplication(_ tokens: TestTokens, storage: MemoryOrderStorage) async throws -> ServiceApplication {
    try await OrderServiceApp.build(
        try OrderServiceConfiguration(environment: tokens.serviceEnvironment()),
        dependencies: .init(
            service: .inMemory(outbox: storage.outbox), store: storage.store, replica: storage.replica,
            changeLog: storage.changeLog, products: storage.products, directory: NoDirectory(), catalog: NoDirectory()))
}

/// A customer-service that knows nobody and a catalog-service that knows no product.
struct NoDirectory: CustomerDirectory, ProductDirectory {
    func customer(id: UUID, token: String) async throws -> CustomerSnapshot? { nil }
    func product(sku: String, token: String) async throws -> ProductSnapshot? { nil }
}

@Suite(.timeLimit(.minutes(1)))
struct CustomerCacheTests {
    static func customer(version: Int) -> CustomerSnapshot {
        CustomerSnapshot(
            customerID: UUID(uuidString: "c0ffee00-0000-4000-8000-000000000001")!, name: "Ada",
            email: "ada@example.com", address: "London",
            ordersCount: version, version: version, updatedAt: Date())
    }

    @Test func entriesExpireAndNeverGoBackwards() {
        let cache = CustomerCache(maxAge: .seconds(1), capacity: 10)
        let start = ContinuousClock.now
        let id = Self.customer(version: 1).customerID
        cache.remember(Self.customer(version: 2), now: start)
        cache.remember(Self.customer(version: 1), now: start)
        #expect(cache.customer(id, now: start + .milliseconds(500))?.version == 2)
        #expect(cache.customer(id, now: start + .milliseconds(1500)) == nil)
        cache.remember(Self.customer(version: 3), now: start + .seconds(2))
        #expect(cache.customer(id, now: start + .milliseconds(2500))?.version == 3)
    }
}

/// Ownership in order-service's routes, in process over the in-memory storage (the same
/// against the running services and PostgreSQL: AuthSystemTests).
@Suite(.timeLimit(.minutes(1)))
struct OrderOwnershipTests {
    @Test func aCustomerPlacesAndSeesItsOwnOrdersOnly() async throws {
        let storage = MemoryOrderStorage()
        let ada = UUID()
        let bob = UUID()
        for id in [ada, bob] {
            try await storage.replica.saveCustomers(
                [
                    CustomerSnapshot(
                        customerID: id, name: "C", email: "\(id)@example.com", address: "x", ordersCount: 0, version: 1,
                        updatedAt: Date())
                ],
                events: [])
        }
        try await storage.products.saveProducts([OrderServiceTests.product("TEA-1")], events: [])
        let tokens = TestTokens()
        let router = try await orderApplication(tokens, storage: storage)
        func headers(_ token: String) -> HTTPFields {
            var headers = TestTokens.bearer(token)
            headers[.contentType] = "application/json"
            return headers
        }
        let asAda = headers(try await tokens.customer(ada))
        let asBob = headers(try await tokens.customer(bob))
        func order(for customer: UUID) -> String {
            #"{"customer_id": "\#(customer)", "items": [{"sku": "TEA-1", "quantity": 1}]}"#
        }
        let placed = try await router.respond(.post, "/orders", headers: asAda, body: order(for: ada))
        #expect(placed.status == .created)
        let id = try #require((placed.json as? [String: Any])?["id"] as? String)
        let forBob = try await router.respond(.post, "/orders", headers: asAda, body: order(for: bob))
        #expect(forBob.status == .forbidden && forBob.errorField == "customer_id")
        #expect(
            try await storage.store.orders(page: PageRequest(limit: 10), customerID: nil).count == 1,
            "the refused order was written")

        #expect(try await router.respond(.get, "/orders/\(id)", headers: asAda).status == .ok)
        #expect(try await router.respond(.get, "/orders/\(id)", headers: asBob).status == .notFound)
        let bobsList = try await router.respond(.get, "/orders", headers: asBob)
        #expect(((bobsList.json as? [String: Any])?["data"] as? [Any])?.isEmpty == true)
        let bobAsksForAda = try await router.respond(.get, "/orders?customer_id=\(ada)", headers: asBob)
        #expect(((bobAsksForAda.json as? [String: Any])?["data"] as? [Any])?.isEmpty == true)
        let admin = try await router.respond(
            .get, "/orders?customer_id=\(ada)", headers: headers(try await tokens.admin()))
        #expect(((admin.json as? [String: Any])?["data"] as? [Any])?.count == 1)
    }

    /// A caller who may see no customer gets an empty list by construction, never a list
    /// filtered by an id nobody was supposed to have: the nil UUID's orders (the filter such
    /// callers used to get) stay hidden from a `sub` that is no customer id, from a `sub` that
    /// is the nil UUID, and from a customer asking for another customer's list.
    @Test func aCallerWhoMaySeeNoCustomerGetsNothingEvenWhenTheNilUUIDHasOrders() async throws {
        let storage = MemoryOrderStorage()
        let nilUUID = UUID(uuidString: "00000000-0000-0000-0000-000000000000")!
        let ada = UUID()
        for id in [nilUUID, ada] {
            try await storage.replica.saveCustomers(
                [
                    CustomerSnapshot(
                        customerID: id, name: "C", email: "\(id)@example.com", address: "x", ordersCount: 0, version: 1,
                        updatedAt: Date())
                ],
                events: [])
        }
        let now = Date()
        let order = Order(
            id: UUID(), customerID: nilUUID, status: .created,
            items: [OrderLine(productName: "Tea", quantity: 1, unitPrice: Money("1.00")!)],
            total: Money("1.00")!, createdAt: now, updatedAt: now)
        _ = try await storage.store.place(order, idempotency: nil, traceparent: nil)
        let tokens = TestTokens()
        let router = try await orderApplication(tokens, storage: storage)
        let notACustomer = TestTokens.bearer(try await tokens.token(sub: "operator", scopes: Scope.customer))
        let nilSubject = TestTokens.bearer(try await tokens.customer(nilUUID))
        let asAda = TestTokens.bearer(try await tokens.customer(ada))
        let lists: [(String, HTTPFields, String)] = [
            ("a sub that is no customer id", notACustomer, "/orders"),
            ("a sub that is no customer id, asking for the nil UUID", notACustomer, "/orders?customer_id=\(nilUUID)"),
            ("the nil UUID as sub", nilSubject, "/orders"),
            ("a customer asking for another's list", asAda, "/orders?customer_id=\(UUID())"),
        ]
        for (who, headers, path) in lists {
            let list = try await router.respond(.get, path, headers: headers)
            #expect(list.status == .ok, "\(who)")
            #expect(
                ((list.json as? [String: Any])?["data"] as? [Any])?.isEmpty == true,
                "\(who) saw \(String(decoding: list.body, as: UTF8.self))")
        }
        #expect(try await router.respond(.get, "/orders/\(order.id)", headers: nilSubject).status == .notFound)
        var posting = nilSubject
        posting[.contentType] = "application/json"
        let placed = try await router.respond(
            .post, "/orders", headers: posting,
            body: #"{"customer_id": "\#(nilUUID)", "items": [{"sku": "TEA-1", "quantity": 1}]}"#
        )
        #expect(placed.status == .forbidden, "the nil UUID is no customer's id")
        let admin = try await router.respond(
            .get, "/orders?customer_id=\(nilUUID)", headers: TestTokens.bearer(try await tokens.admin()))
        #expect(
            ((admin.json as? [String: Any])?["data"] as? [Any])?.count == 1,
            "an admin sees any customer's, even this one's")
    }
}

/// The order's state machine over every (state, event) pair, and its SQL form.
@Suite(.timeLimit(.minutes(1)))
struct OrderLifecycleTests {
    @Test(arguments: Order.Status.allCases)
    func everyTransition(_ status: Order.Status) {
        let expected: [OrderLifecycle.Event: OrderLifecycle.Outcome] =
            switch status {
            case .created:
                [
                    .invoiceIssued: .moves(to: .invoiced), .paymentCaptured: .moves(to: .paid),
                    .cancel: .moves(to: .cancelled), .paymentRefunded: .stays,
                ]
            case .invoiced:
                [
                    .invoiceIssued: .stays, .paymentCaptured: .moves(to: .paid), .cancel: .moves(to: .cancelled),
                    .paymentRefunded: .stays,
                ]
            case .paid: [.invoiceIssued: .stays, .paymentCaptured: .stays, .cancel: .refused, .paymentRefunded: .stays]
            case .cancelled:
                [.invoiceIssued: .stays, .paymentCaptured: .stays, .cancel: .stays, .paymentRefunded: .stays]
            }
        for event in OrderLifecycle.Event.allCases {
            #expect(OrderLifecycle.transition(from: status, on: event) == expected[event], "\(status) on \(event)")
        }
    }

    @Test func paidAndCancelledAreFinalAndNeverFollowEachOther() {
        for event in OrderLifecycle.Event.allCases {
            for status in [Order.Status.paid, .cancelled] {
                if case .moves = OrderLifecycle.transition(from: status, on: event) {
                    Issue.record("\(status) moves on \(event)")
                }
            }
        }
    }

    @Test func theSQLFormMovesExactlyWhatTheMachineMoves() {
        #expect(
            OrderLifecycle.sqlCase(for: .invoiceIssued) == "CASE status WHEN 'created' THEN 'invoiced' ELSE status END")
        #expect(
            OrderLifecycle.sqlCase(for: .paymentCaptured, column: "o.status")
                == "CASE o.status WHEN 'created' THEN 'paid' WHEN 'invoiced' THEN 'paid' ELSE o.status END")
    }

    /// The live view's status counts read the change log through the same mapping as the
    /// changes themselves (it was a hand-written CASE once).
    @Test func theChangeLogsStatusInSQLIsEachKindsStatus() {
        #expect(
            OrderChange.Kind.sqlStatus(of: "event")
                == "CASE event WHEN 'order.created' THEN 'created' WHEN 'order.invoiced' THEN 'invoiced' WHEN 'order.paid' THEN 'paid' "
                + "WHEN 'order.cancelled' THEN 'cancelled' WHEN 'order.refunded' THEN 'cancelled' END")
    }
}
