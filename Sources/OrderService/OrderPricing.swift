package import Contracts
import Hummingbird
package import Logging
import ServiceKit

/// Names and prices an order's lines from the catalog and checks its stock before anything is
/// written: order-service's product replica first, catalog-service over HTTP (with the
/// caller's token) for a product the replica does not hold yet.
///
/// The replica's availability is a fast refusal, not the authority: catalog-service reserves
/// every accepted order's lines (all or none) and an order that loses a race for the last
/// units is cancelled with reason `out_of_stock`.
package struct OrderPricing: Sendable {
    private let replica: any ProductReplica
    private let directory: any ProductDirectory
    private let refusals: StockRefusals
    private let lookups = ProductLookups()
    private let logger: Logger

    /// Prices from `replica`, else from `directory`; counts the orders refused for stock in
    /// `refusals`.
    package init(
        replica: any ProductReplica, directory: any ProductDirectory, refusals: StockRefusals = StockRefusals(),
        logger: Logger
    ) {
        self.replica = replica
        self.directory = directory
        self.refusals = refusals
        self.logger = logger
    }

    /// The products of `order`'s lines, by SKU. Throws a 422 naming the line of an unknown or
    /// inactive SKU, a 409 `out_of_stock` naming every SKU asked for beyond what is available,
    /// a 503 if a product is not in the replica and catalog-service does not answer.
    package func products(for order: NewOrder, token: String) async throws -> [String: ProductSnapshot] {
        let quantities = order.quantities
        var products = try await replica.products(skus: Array(quantities.keys))
        for sku in quantities.keys.sorted() where products[sku] == nil {
            guard let product = try await lookUp(sku, token: token) else { continue }
            products[sku] = product
            try await replica.saveProducts([product], events: [])
        }
        for (index, item) in order.items.enumerated() {
            guard let product = products[item.sku] else {
                throw APIError.invalid("items[\(index)].sku", "no product with SKU \(item.sku)")
            }
            guard product.active else {
                throw APIError.invalid("items[\(index)].sku", "product \(item.sku) is not for sale")
            }
        }
        let short = quantities.filter { sku, wanted in (products[sku]?.available ?? 0) < wanted }.keys.sorted()
        guard short.isEmpty else {
            refusals.record()
            let first = order.items.firstIndex { short.contains($0.sku) } ?? 0
            throw APIError(
                status: .conflict, code: "out_of_stock",
                message: "not enough in stock, nothing was placed: "
                    + short.map {
                        "\($0) (\(quantities[$0] ?? 0) asked for, \(products[$0]?.available ?? 0) available)"
                    }
                    .joined(separator: ", "),
                field: "items[\(first)].quantity")
        }
        return products
    }

    private func lookUp(_ sku: String, token: String) async throws -> ProductSnapshot? {
        let directory = self.directory
        do {
            // Any caller's token answers the same: the catalog is the same for every caller.
            return try await lookups.product(sku) { try await directory.product(sku: sku, token: token) }
        } catch {
            // Any valid token may read the catalog, so a refusal is a fault of the system, as
            // a silence is: a 503, and the client retries.
            logger.warning(
                "catalog-service lookup failed", metadata: ["product.sku": "\(sku)", "error.message": "\(error)"])
            throw APIError.unavailable("product \(sku) is not known yet and catalog-service did not answer")
        }
    }
}

/// One lookup per SKU at a time: a burst of orders for a product the replica does not hold yet
/// (added a moment ago) asks catalog-service once, and every order of the burst gets its answer.
actor ProductLookups {
    private var inFlight: [String: Task<ProductSnapshot?, any Error>] = [:]

    /// The product, from the lookup in flight for `sku`, else from `fetch`.
    func product(_ sku: String, _ fetch: @escaping @Sendable () async throws -> ProductSnapshot?) async throws
        -> ProductSnapshot?
    {
        if let running = inFlight[sku] { return try await running.value }
        let task = Task { try await fetch() }
        inFlight[sku] = task
        defer { inFlight[sku] = nil }
        return try await task.value
    }
}
