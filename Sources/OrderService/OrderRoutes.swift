import Contracts
import Foundation
package import Hummingbird
package import HummingbirdAuth
package import Logging
package import ServiceKit

/// order-service's HTTP API: `POST /orders`, `GET /orders/{id}`, `GET /orders`,
/// `POST /orders/{id}/cancel`. Every route needs a bearer token; a caller without
/// `mercato:admin` sees, places and cancels only its own customer's orders.
package struct OrderRoutes: Sendable {
    private let store: any OrderStore
    private let replica: any CustomerReplica
    private let directory: any CustomerDirectory
    private let pricing: OrderPricing
    private let maxBodyBytes: Int
    private let admission: OrderAdmission?
    private let logger: Logger

    /// Creates the routes; with `admission`, new orders beyond what the pipeline settles in
    /// time are answered 503.
    package init(
        store: any OrderStore, replica: any CustomerReplica, directory: any CustomerDirectory, pricing: OrderPricing,
        maxBodyBytes: Int, admission: OrderAdmission? = nil, logger: Logger
    ) {
        self.pricing = pricing
        self.store = store
        self.replica = replica
        self.directory = directory
        self.maxBodyBytes = maxBodyBytes
        self.admission = admission
        self.logger = logger
    }

    /// The answer to an order admission control sheds: 503 with `Retry-After`, after the
    /// request's checks but before any lookup or write, so a shed order costs next to nothing.
    static let overloaded = APIError(
        status: .serviceUnavailable, code: "overloaded",
        message:
            "orders are taking longer than they should to settle; nothing was placed, retry after Retry-After seconds")

    /// Adds the routes to `router`.
    package func add<Context: AuthRequestContext<Caller>>(to router: Router<Context>, access: AccessGuard) {
        access.requiring(.ordersWrite, on: router).post("/orders") { request, context in
            try await place(request, caller: context.caller)
        }
        access.requiring(.ordersRead, on: router).get("/orders/:id") { _, context in
            try await show(context.parameters.get("id") ?? "", caller: context.caller)
        }
        access.requiring(.ordersRead, on: router).get("/orders") { request, context in
            try await list(request, caller: context.caller)
        }
        access.requiring(.ordersWrite, on: router).post("/orders/:id/cancel") { request, context in
            try await cancel(context.parameters.get("id") ?? "", request, caller: context.caller)
        }
    }

    /// Cancels an order that is not paid: 200 with the order, cancelled (also when it was
    /// already: cancelling is idempotent); 409 if it is paid. `order.cancelled` goes out in
    /// the same transaction: customer-service uncounts it, invoice-service voids its invoice.
    func cancel(_ idText: String, _ request: Request, caller: Caller) async throws -> Response {
        guard let id = UUID(uuidString: idText) else { throw APIError.badParameter("id", "id must be a UUID") }
        // Ownership first, so another customer's order is a 404 whatever its state.
        guard let existing = try await store.order(id: id), caller.owns(existing.customerID),
            let result = try await store.cancel(
                id, reason: .requested, at: Date(), traceparent: request.traceparent)
        else { throw APIError.notFound("order \(idText)") }
        if result.outcome == .refused {
            throw APIError.conflict("order_paid", "order \(idText) is paid and can no longer be cancelled")
        }
        logger.debug(
            "order cancelled",
            metadata: ["order.id": "\(id.uuidString.lowercased())", "order.replay": "\(result.outcome == .stays)"])
        return try await respond(result.order, status: .ok)
    }

    static let idempotencyConflict = APIError.conflict(
        "idempotency_key_reused", "this Idempotency-Key was used for a different request", field: "Idempotency-Key")

    /// Storage's refusals as HTTP answers.
    private func answering<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as OrderStoreError where error.code == .idempotencyKeyReused {
            throw Self.idempotencyConflict
        }
    }

    /// Places an order named and priced by the catalog (``OrderPricing``): one transaction
    /// (order, items, outbox), never a wait for the broker; unless ``OrderAdmission`` sheds it
    /// first.
    func place(_ request: Request, caller: Caller) async throws -> Response {
        let new = try await request.decodeJSON(NewOrder.self, limit: maxBodyBytes).validated()
        guard caller.owns(new.customerID) else {
            throw APIError.forbidden("customer_id", "a customer's token places orders for that customer only")
        }
        // The store judges a reused key: a replay is answered at once with the order it placed
        // (whatever the load, without looking the customer up again), another request under
        // it is a 409. A retry racing its original is judged by place(), the same way.
        let idempotency = try request.idempotencyKey().map { IdempotencyKey(key: $0, request: new.canonicalJSON) }
        if let idempotency, let existing = try await answering({ try await store.replay(of: idempotency) }) {
            return try await respond(existing, status: .created)
        }
        // After the checks: bad input is a 4xx and a replay is answered whatever the load.
        if let admission, !admission.admit() { throw Self.overloaded }
        let customer = try await knownCustomer(new.customerID, caller: caller)
        let products = try await pricing.products(for: new, token: caller.token)
        let order = try new.order(pricedBy: products, at: Date())
        let placed = try await answering {
            try await store.place(order, idempotency: idempotency, traceparent: request.traceparent)
        }
        logger.debug(
            "order placed",
            metadata: [
                "order.id": "\(placed.order.id.uuidString.lowercased())",
                "customer.id": "\(order.customerID.uuidString.lowercased())",
                "order.replay": "\(placed.isReplay)",
            ])
        return try JSONResponse.make(OrderResponse(placed.order, customer: customer), status: .created)
    }

    /// The customer from the replica, else from customer-service (remembered in the
    /// replica); a 422 if neither knows them.
    /// customer-service is asked with the caller's own token: it answers what the caller may see.
    private func knownCustomer(_ id: UUID, caller: Caller) async throws -> CustomerSnapshot {
        if let customer = try await replica.customer(id: id) { return customer }
        let fetched: CustomerSnapshot?
        do {
            fetched = try await directory.customer(id: id, token: caller.token)
        } catch let error as DirectoryError where error.code == .forbidden {
            throw APIError.insufficientScope(.customersRead)
        } catch {
            logger.warning(
                "customer-service lookup failed", metadata: ["customer.id": "\(id)", "error.message": "\(error)"])
            throw APIError.unavailable(
                "customer \(id.uuidString.lowercased()) is not known yet and customer-service did not answer")
        }
        guard let customer = fetched else {
            throw APIError.invalid("customer_id", "customer \(id.uuidString.lowercased()) does not exist")
        }
        try await replica.saveCustomers([customer], events: [])
        return customer
    }

    /// Another customer's order is "not found", as if it did not exist: ids are not enumerable.
    func show(_ idText: String, caller: Caller) async throws -> Response {
        guard let id = UUID(uuidString: idText) else { throw APIError.badParameter("id", "id must be a UUID") }
        guard let order = try await store.order(id: id), caller.owns(order.customerID) else {
            throw APIError.notFound("order \(idText)")
        }
        return try await respond(order, status: .ok)
    }

    private func respond(_ order: Order, status: HTTPResponse.Status) async throws -> Response {
        let customer = try await replica.customer(id: order.customerID)
        return try JSONResponse.make(OrderResponse(order, customer: customer), status: status)
    }

    /// A customer's list holds its own orders only, whatever `customer_id` asks for.
    func list(_ request: Request, caller: Caller) async throws -> Response {
        let page = try PageRequest(request)
        var customerID: UUID?
        if let text = request.uri.queryParameters.get("customer_id") {
            guard let id = UUID(uuidString: text) else {
                throw APIError.badParameter("customer_id", "customer_id must be a UUID")
            }
            customerID = id
        }
        let orders = try await caller.visibility(asked: customerID).query(empty: []) {
            try await store.orders(page: page, customerID: $0)
        }
        return try JSONResponse.make(
            Page(data: orders.map { OrderResponse($0, customer: nil) }, limit: page.limit) {
                PageCursor(time: $0.createdAt, id: $0.id)
            })
    }
}
