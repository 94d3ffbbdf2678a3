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

@testable import CatalogService

@Suite(.timeLimit(.minutes(1)))
struct CatalogServiceTests {
    let store = MemoryProductStore()

    /// catalog-service as it runs (every middleware, health, metrics, OpenAPI), over the
    /// in-memory store and broker, with the seeded products when `seed` (seeding runs after
    /// the migrations, which a unit test never runs: the store is seeded directly).
    func application(_ tokens: TestTokens, seed: Bool = false) async throws -> ServiceApplication {
        if seed { _ = try await store.seedIfEmpty(CatalogSeeds.products, at: Date()) }
        return try await CatalogServiceApp.build(
            try CatalogServiceConfiguration(environment: tokens.serviceEnvironment(["SEED_PRODUCTS": "false"])),
            dependencies: .init(
                service: .inMemory(outbox: store.outbox), products: store, stock: store, purchaseOrders: store))
    }

    /// The store contract, against the in-memory store (PostgreSQL's runs in
    /// ServiceIntegrationTests).
    @Test(arguments: ProductStoreContract.checks)
    func memoryStore(_ check: ContractCheck<ProductStorage>) async throws {
        let store = MemoryProductStore(stamp: ProductStoreContract.stamp)
        try await check.run(ProductStorage(store: store, pendingEvents: { store.outbox.pending }))
    }

    /// The stock contract, against the in-memory store (PostgreSQL's runs in
    /// ServiceIntegrationTests).
    @Test(arguments: StockStoreContract.checks + PurchaseOrderContract.checks)
    func memoryStock(_ check: ContractCheck<StockStorage>) async throws {
        let store = MemoryProductStore()
        try await check.run(
            StockStorage(
                products: store, stock: store, purchaseOrders: store, pendingEvents: { store.outbox.pending }))
    }

    @Test func theApplicationServesTheCommonRoutesAndMiddleware() async throws {
        let tokens = TestTokens()
        try await application(tokens).expectCommonRoutes(tokens: tokens, unlisted: .delete, on: "/products")
    }

    @Test func validatesNewProductsChangesAndAdjustments() throws {
        let valid = try NewProduct(sku: " tea-1 ", name: " Tea ", price: Money("1.50")!).validated()
        #expect(valid.sku == "TEA-1" && valid.name == "Tea")
        let products: [(NewProduct, String)] = [
            (NewProduct(sku: "", name: "Tea", price: Money("1")!), "sku"),
            (NewProduct(sku: "TEA 1", name: "Tea", price: Money("1")!), "sku"),
            (NewProduct(sku: "TEA", name: "", price: Money("1")!), "name"),
            (NewProduct(sku: "TEA", name: "Tea", price: .zero), "price"),
            (NewProduct(sku: "TEA", name: "Tea", price: Money("0.001")!), "price"),
            (NewProduct(sku: "TEA", name: "Tea", price: Money("1000000.01")!), "price"),
            (NewProduct(sku: "TEA", name: "Tea", price: Money("1")!, stockOnHand: -1), "stock_on_hand"),
            (NewProduct(sku: "TEA", name: "Tea", price: Money("1")!, reorderPoint: -1), "reorder_point"),
        ]
        for (input, field) in products {
            #expect { try input.validated() } throws: { ($0 as? APIError)?.field == field }
        }
        #expect { try ProductChange().validated() } throws: { ($0 as? APIError)?.field == "body" }
        #expect { try ProductChange(price: .zero).validated() } throws: { ($0 as? APIError)?.field == "price" }
        #expect { try StockAdjustment(kind: .received, quantity: 0, reason: "x").validated() } throws: {
            ($0 as? APIError)?.field == "quantity"
        }
        #expect { try StockAdjustment(kind: .counted, quantity: 1, reason: " ").validated() } throws: {
            ($0 as? APIError)?.field == "reason"
        }
        #expect(try StockAdjustment(kind: .counted, quantity: 0, reason: "count").validated().quantity == 0)
    }

    /// A count may not leave fewer units on hand than are promised to orders.
    @Test func aCountBelowWhatIsReservedIsRefused() throws {
        let time = Date()
        var product = Product(NewProduct(sku: "TEA", name: "Tea", price: Money("1")!, stockOnHand: 10), at: time)
        product.reserved = 4
        #expect {
            try StockAdjustment(kind: .counted, quantity: 3, reason: "count").applied(to: product, at: time)
        } throws: { ($0 as? CatalogStoreError)?.code == .belowReserved }
        #expect(
            try StockAdjustment(kind: .counted, quantity: 4, reason: "count").applied(to: product, at: time).available
                == 0)
    }

    /// Reading needs any valid token; changing needs catalog:write, which a customer's token
    /// does not carry.
    @Test func anyTokenReadsTheCatalogAndOnlyCatalogWriteChangesIt() async throws {
        let tokens = TestTokens()
        let app = try await application(tokens, seed: true)
        let customer = TestTokens.bearer(try await tokens.customer(UUID()))
        var admin = TestTokens.bearer(try await tokens.admin())
        admin[.contentType] = "application/json"

        #expect(try await app.respond(.get, "/products").status == .unauthorized)
        let list = try await app.respond(.get, "/products?limit=2", headers: customer)
        let data = (list.json as? [String: Any])?["data"] as? [[String: Any]]
        #expect(list.status == .ok && data?.count == 2 && data?.first?["sku"] as? String == "TEA-EARLGREY-100G")
        let one = try await app.respond(.get, "/products/pot-cast-iron", headers: customer)
        #expect(one.status == .ok && (one.json as? [String: Any])?["available"] as? Int == 3)
        #expect(try await app.respond(.get, "/products/NOPE", headers: customer).status == .notFound)
        #expect(try await app.respond(.get, "/products/no%20pe", headers: customer).status == .badRequest)

        var asCustomer = customer
        asCustomer[.contentType] = "application/json"
        let body = #"{"sku": "MUG-1", "name": "Mug", "price": "6.00", "stock_on_hand": 4}"#
        #expect(try await app.respond(.post, "/products", headers: asCustomer, body: body).status == .forbidden)
        let created = try await app.respond(.post, "/products", headers: admin, body: body)
        #expect(created.status == .created && created.headers[.location] == "/products/MUG-1")
        let shown = created.json as? [String: Any]
        #expect(
            shown?["stock_on_hand"] as? Int == 4 && shown?["available"] as? Int == 4 && shown?["on_order"] as? Int == 0)
        let again = try await app.respond(.post, "/products", headers: admin, body: body)
        #expect(again.status == .conflict && again.errorCode == "sku_taken" && again.errorField == "sku")
        let bad = try await app.respond(
            .post, "/products", headers: admin, body: #"{"sku": "MUG-2", "name": "Mug", "price": "-1"}"#)
        #expect(bad.status == .unprocessableContent && bad.errorField == "price")

        let patched = try await app.respond(
            .patch, "/products/MUG-1", headers: admin, body: #"{"price": "6.50", "active": false}"#)
        let patchedJSON = patched.json as? [String: Any]
        #expect(
            patched.status == .ok && patchedJSON?["version"] as? Int == 2 && patchedJSON?["active"] as? Bool == false)
    }

    /// Goods received count once per Idempotency-Key; the same key with another body is a 409.
    @Test func stockAdjustmentsAreIdempotentByKey() async throws {
        let tokens = TestTokens()
        let app = try await application(tokens, seed: true)
        var headers = TestTokens.bearer(try await tokens.admin())
        headers[.contentType] = "application/json"
        headers[.idempotencyKey] = "delivery-77"
        let body = #"{"kind": "received", "quantity": 10, "reason": "delivery 77"}"#
        let first = try await app.respond(.post, "/products/POT-CAST-IRON/stock", headers: headers, body: body)
        let second = try await app.respond(.post, "/products/POT-CAST-IRON/stock", headers: headers, body: body)
        #expect(first.status == .ok && (first.json as? [String: Any])?["stock_on_hand"] as? Int == 13)
        #expect(second.status == .ok && (second.json as? [String: Any])?["stock_on_hand"] as? Int == 13)
        let other = try await app.respond(
            .post, "/products/POT-CAST-IRON/stock", headers: headers,
            body: #"{"kind": "received", "quantity": 11, "reason": "delivery 77"}"#)
        #expect(other.status == .conflict && other.errorCode == "idempotency_key_reused")
        let updates = store.outbox.pending.filter { $0.eventType == EventType.productUpdated.name }
        // One adjustment, one product.updated: the replay and the refusal announce nothing.
        #expect(updates.count == 1)
    }
}
