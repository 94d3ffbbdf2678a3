package import CatalogService
import Contracts
import Foundation
import MercatoTesting
package import ServiceKit
import Testing

/// A product store under test, with a view of the events it queued.
package struct ProductStorage: Sendable {
    /// The store.
    package var store: any ProductStore
    /// The events it queued and nobody published yet, oldest first.
    package var pendingEvents: @Sendable () async throws -> [OutboxMessage]

    /// Creates the subject.
    package init(store: any ProductStore, pendingEvents: @escaping @Sendable () async throws -> [OutboxMessage]) {
        self.store = store
        self.pendingEvents = pendingEvents
    }
}

/// What every ``ProductStore`` does — PostgreSQL's and the in-memory one alike.
package enum ProductStoreContract {
    /// The stamp the contract's stores are created with.
    package static let stamp = EventStamp(serviceName: "catalog-service")

    static func newProduct(_ sku: String = "TEA-\(UUID().uuidString.prefix(8))", stock: Int = 10) -> NewProduct {
        NewProduct(
            sku: sku, name: "Earl Grey", price: Money("4.20")!, stockOnHand: stock, reorderPoint: 2, reorderQuantity: 20
        )
    }

    static func snapshots(_ storage: ProductStorage) async throws -> [(type: String, product: ProductSnapshot)] {
        try await storage.pendingEvents().map { message in
            let decoder = EventCoding.makeDecoder()
            if message.eventType == EventType.productCreated.name {
                return (
                    message.eventType,
                    try decoder.decode(CloudEvent<ProductCreated>.self, from: message.body).data.product
                )
            }
            return (
                message.eventType, try decoder.decode(CloudEvent<ProductUpdated>.self, from: message.body).data.product
            )
        }
    }

    /// Every check.
    package static let checks: [ContractCheck<ProductStorage>] = [
        ContractCheck("a product is stored as created, with product.created, and its SKU only once") { storage in
            let time = millisecondNow()
            let new = newProduct()
            let created = try await storage.store.create(new, at: time, traceparent: testTraceparent)
            #expect(created.version == 1 && created.onHand == 10 && created.reserved == 0 && created.available == 10)
            #expect(try await storage.store.product(sku: new.sku) == created)
            await #expect { try await storage.store.create(new, at: time, traceparent: nil) } throws: {
                ($0 as? CatalogStoreError)?.code == .skuTaken
            }
            let events = try await snapshots(storage)
            #expect(events.map(\.type) == ["product.created"])
            let announced = try #require(events.first?.product)
            var expected = created.snapshot
            expected.updatedAt = announced.updatedAt
            #expect(announced == expected && sameInstant(announced.updatedAt, created.updatedAt))
            #expect(try await storage.store.product(sku: "NO-SUCH-SKU") == nil)
        },
        ContractCheck("a change bumps the version once and announces it; no change announces nothing") { storage in
            let product = try await storage.store.create(newProduct(), at: millisecondNow(), traceparent: nil)
            let later = millisecondNow(plus: 1)
            let changed = try #require(
                try await storage.store.update(
                    sku: product.sku, ProductChange(price: Money("5.00")!, active: false), at: later, traceparent: nil))
            #expect(changed.version == 2 && changed.price == Money("5.00")! && !changed.active)
            let same = try await storage.store.update(
                sku: product.sku, ProductChange(price: Money("5.00")!), at: later, traceparent: nil)
            #expect(same?.version == 2)
            #expect(
                try await storage.store.update(
                    sku: "NO-SUCH-SKU", ProductChange(active: true), at: later, traceparent: nil)
                    == nil)
            #expect(try await snapshots(storage).map(\.type) == ["product.created", "product.updated"])
            #expect(try await storage.store.product(sku: product.sku) == changed)
        },
        ContractCheck("stock received and counted, once per key; a count below what is reserved is refused") {
            storage in
            let product = try await storage.store.create(newProduct(stock: 3), at: millisecondNow(), traceparent: nil)
            let key = "receipt-\(UUID())"
            let received = StockAdjustment(kind: .received, quantity: 7, reason: "delivery 42")
            let first = try #require(
                try await storage.store.adjustStock(
                    sku: product.sku, received, idempotencyKey: key, at: millisecondNow(), traceparent: nil))
            #expect(!first.isReplay && first.product.onHand == 10 && first.product.version == 2)
            let again = try #require(
                try await storage.store.adjustStock(
                    sku: product.sku, received, idempotencyKey: key, at: millisecondNow(), traceparent: nil))
            #expect(again.isReplay && again.product.onHand == 10)
            await #expect {
                try await storage.store.adjustStock(
                    sku: product.sku, StockAdjustment(kind: .received, quantity: 8, reason: "delivery 42"),
                    idempotencyKey: key, at: millisecondNow(), traceparent: nil)
            } throws: { ($0 as? CatalogStoreError)?.code == .idempotencyKeyReused }
            let counted = try #require(
                try await storage.store.adjustStock(
                    sku: product.sku, StockAdjustment(kind: .counted, quantity: 4, reason: "count"),
                    idempotencyKey: nil, at: millisecondNow(), traceparent: nil))
            #expect(counted.product.onHand == 4 && counted.product.available == 4)
            #expect(
                try await storage.store.adjustStock(
                    sku: "NO-SUCH-SKU", received, idempotencyKey: nil, at: millisecondNow(), traceparent: nil) == nil)
            let events = try await snapshots(storage)
            #expect(events.map(\.type) == ["product.created", "product.updated", "product.updated"])
            #expect(events.last?.product.available == 4)
        },
        ContractCheck("pages run oldest first and follow each other without repeats") { storage in
            var created: [Product] = []
            for index in 0..<5 {
                created.append(
                    try await storage.store.create(
                        newProduct("PAGE-\(index)-\(UUID().uuidString.prefix(6))"),
                        at: millisecondNow(plus: Double(index)),
                        traceparent: nil))
            }
            var seen: [String] = []
            var request = PageRequest(limit: 2)
            while true {
                let page = try await storage.store.products(page: request)
                seen += page.map(\.sku)
                guard page.count == 2, let last = page.last else { break }
                request = PageRequest(limit: 2, after: PageCursor(time: last.createdAt, id: last.id))
            }
            #expect(seen == created.map(\.sku))
        },
        ContractCheck("seeding adds the products once, with product.created each") { storage in
            let seeds = [newProduct("SEED-A"), newProduct("SEED-B")]
            let seeded = try await storage.store.seedIfEmpty(seeds, at: millisecondNow())
            #expect(seeded)
            #expect(try await !storage.store.seedIfEmpty(seeds, at: millisecondNow()))
            #expect(try await storage.store.product(sku: "SEED-B")?.onHand == 10)
            #expect(try await snapshots(storage).map(\.type) == ["product.created", "product.created"])
        },
    ]
}
