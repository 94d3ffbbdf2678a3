import Contracts
import Foundation
package import Hummingbird
package import HummingbirdAuth
package import ServiceKit
import Synchronization

/// `GET /stock` for the live page: each product's availability as order-service's replica
/// has it (available, reserved, on order, restocked), and the orders stock turned away —
/// refused at once (409, counted by this replica since it started) and cancelled
/// `out_of_stock` after the catalog's reservation (from the database). Any valid token: the
/// catalog is not a secret.
package struct StockRoutes: Sendable {
    private let products: any ProductReplica
    private let orders: any OrderStore
    private let refusals: StockRefusals

    /// Creates the route.
    package init(products: any ProductReplica, orders: any OrderStore, refusals: StockRefusals) {
        self.products = products
        self.orders = orders
        self.refusals = refusals
    }

    /// Adds the route to `router`.
    package func add<Context: AuthRequestContext<Caller>>(to router: Router<Context>, access: AccessGuard) {
        access.authenticated(on: router).get("/stock") { _, _ in
            try JSONResponse.make(
                StockResponse(
                    products: try await products.stock(limit: 50), refused: refusals.count,
                    cancelled: try await orders.outOfStockCount()))
        }
    }

    struct StockResponse: Encodable {
        var products: [StockLevel]
        /// Orders refused 409 `out_of_stock` by this replica since it started.
        var refused: Int
        /// Orders cancelled `out_of_stock` after they were accepted.
        var cancelled: Int

        enum CodingKeys: String, CodingKey {
            case products
            case refused = "refused_out_of_stock"
            case cancelled = "cancelled_out_of_stock"
        }
    }
}

/// Orders this replica refused 409 `out_of_stock`: a counter shared by ``OrderPricing`` and
/// ``StockRoutes``.
package final class StockRefusals: Sendable {
    private let refused = Atomic<Int>(0)

    /// None yet.
    package init() {}

    /// One more refused.
    func record() { refused.add(1, ordering: .relaxed) }

    /// How many were refused.
    package var count: Int { refused.load(ordering: .relaxed) }
}

/// A product's stock as the live page shows it.
package struct StockLevel: Encodable, Sendable, Equatable {
    /// Its SKU.
    package var sku: String
    /// Its name.
    package var name: String
    /// Units that may still be ordered.
    package var available: Int
    /// Units promised to orders (unknown from catalog-services before it announced them).
    package var reserved: Int?
    /// Units ordered from the supplier, not received yet.
    package var onOrder: Int?
    /// Units the supplier delivered (`stock.replenished`) since the replica first heard of it.
    package var replenished: Int

    /// Creates a stock level.
    package init(sku: String, name: String, available: Int, reserved: Int?, onOrder: Int?, replenished: Int) {
        self.sku = sku
        self.name = name
        self.available = available
        self.reserved = reserved
        self.onOrder = onOrder
        self.replenished = replenished
    }

    enum CodingKeys: String, CodingKey {
        case sku, name, available, reserved, replenished
        case onOrder = "on_order"
    }
}
