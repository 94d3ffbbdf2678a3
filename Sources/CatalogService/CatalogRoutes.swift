import Contracts
import Foundation
package import Hummingbird
package import HummingbirdAuth
package import ServiceKit

/// catalog-service's HTTP API: `GET /products`, `GET /products/{sku}` for any valid token;
/// `POST /products`, `PATCH /products/{sku}` and `POST /products/{sku}/stock` with
/// `catalog:write`; `GET /purchase-orders` with `mercato:admin`.
package struct CatalogRoutes: Sendable {
    private let store: any ProductStore
    private let purchaseOrders: any PurchaseOrderStore
    private let maxBodyBytes: Int

    /// Creates the routes over `store` and `purchaseOrders`.
    package init(store: any ProductStore, purchaseOrders: any PurchaseOrderStore, maxBodyBytes: Int) {
        self.store = store
        self.purchaseOrders = purchaseOrders
        self.maxBodyBytes = maxBodyBytes
    }

    /// Adds the routes to `router`.
    package func add<Context: AuthRequestContext<Caller>>(to router: Router<Context>, access: AccessGuard) {
        access.authenticated(on: router).get("/products") { request, _ in
            try await list(request)
        }
        access.authenticated(on: router).get("/products/:sku") { _, context in
            try await show(context.parameters.get("sku") ?? "")
        }
        access.requiring(.catalogWrite, on: router).post("/products") { request, _ in
            try await create(request)
        }
        access.requiring(.catalogWrite, on: router).patch("/products/:sku") { request, context in
            try await update(context.parameters.get("sku") ?? "", request)
        }
        access.requiring(.catalogWrite, on: router).post("/products/:sku/stock") { request, context in
            try await adjust(context.parameters.get("sku") ?? "", request)
        }
        access.requiring(.admin, on: router).get("/purchase-orders") { request, _ in
            let page = try PageRequest(request)
            let orders = try await purchaseOrders.purchaseOrders(page: page)
            return try JSONResponse.make(
                Page(data: orders.map(PurchaseOrderResponse.init), limit: page.limit) { $0.cursor })
        }
    }

    func list(_ request: Request) async throws -> Response {
        let page = try PageRequest(request)
        let products = try await store.products(page: page)
        return try JSONResponse.make(
            Page(data: products.map(ProductResponse.init), limit: page.limit) { $0.cursor })
    }

    func show(_ skuText: String) async throws -> Response {
        let sku = try Self.sku(skuText)
        guard let product = try await store.product(sku: sku) else { throw APIError.notFound("product \(sku)") }
        return try JSONResponse.make(ProductResponse(product))
    }

    func create(_ request: Request) async throws -> Response {
        let new = try await request.decodeJSON(NewProduct.self, limit: maxBodyBytes).validated()
        let product: Product
        do {
            product = try await store.create(new, at: Date(), traceparent: request.traceparent)
        } catch let error as CatalogStoreError where error.code == .skuTaken {
            throw APIError.conflict("sku_taken", "a product with SKU \(new.sku) exists", field: "sku")
        }
        var response = try JSONResponse.make(ProductResponse(product), status: .created)
        response.headers[.location] = "/products/\(product.sku)"
        return response
    }

    func update(_ skuText: String, _ request: Request) async throws -> Response {
        let sku = try Self.sku(skuText)
        let change = try await request.decodeJSON(ProductChange.self, limit: maxBodyBytes).validated()
        guard let product = try await store.update(sku: sku, change, at: Date(), traceparent: request.traceparent)
        else { throw APIError.notFound("product \(sku)") }
        return try JSONResponse.make(ProductResponse(product))
    }

    func adjust(_ skuText: String, _ request: Request) async throws -> Response {
        let sku = try Self.sku(skuText)
        let adjustment = try await request.decodeJSON(StockAdjustment.self, limit: maxBodyBytes).validated()
        let result: AdjustedStock?
        do {
            result = try await store.adjustStock(
                sku: sku, adjustment, idempotencyKey: try request.idempotencyKey(), at: Date(),
                traceparent: request.traceparent)
        } catch let error as CatalogStoreError where error.code == .belowReserved {
            throw APIError.conflict("below_reserved", error.message, field: "quantity")
        } catch let error as CatalogStoreError where error.code == .tooManyUnits {
            throw APIError.invalid("quantity", error.message)
        } catch let error as CatalogStoreError where error.code == .idempotencyKeyReused {
            throw APIError.conflict(
                "idempotency_key_reused", "this Idempotency-Key was used for a different request",
                field: "Idempotency-Key")
        }
        guard let result else { throw APIError.notFound("product \(sku)") }
        return try JSONResponse.make(ProductResponse(result.product))
    }

    /// A SKU from the path, as the store keeps it (upper case); a 400 if it cannot be one.
    static func sku(_ text: String) throws -> String {
        do {
            return try FieldValidation.sku(text, field: "sku")
        } catch {
            throw APIError.badParameter("sku", "sku must be 1 to 64 characters of A-Z, 0-9 and -")
        }
    }
}
