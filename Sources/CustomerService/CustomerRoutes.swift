import Contracts
import Foundation
package import Hummingbird
package import HummingbirdAuth
package import ServiceKit

/// customer-service's HTTP API: `POST /customers`, `GET /customers/{id}`, `GET /customers`.
/// Every route needs a bearer token; a caller without `mercato:admin` is the customer its
/// `sub` names: it registers that customer and sees only it.
package struct CustomerRoutes: Sendable {
    private let repository: any CustomerRepository
    private let maxBodyBytes: Int

    /// Creates the routes over `repository`.
    package init(repository: any CustomerRepository, maxBodyBytes: Int) {
        self.repository = repository
        self.maxBodyBytes = maxBodyBytes
    }

    /// Adds the routes to `router`.
    package func add<Context: AuthRequestContext<Caller>>(to router: Router<Context>, access: AccessGuard) {
        access.requiring(.customersWrite, on: router).post("/customers") { request, context in
            try await create(request, caller: context.caller)
        }
        access.requiring(.customersRead, on: router).get("/customers/:id") { _, context in
            try await show(context.parameters.get("id") ?? "", caller: context.caller)
        }
        access.requiring(.customersRead, on: router).get("/customers") { request, context in
            try await list(request, caller: context.caller)
        }
    }

    /// An admin registers any customer under a new id; anyone else registers itself, under
    /// the id its token's `sub` names (the identity provider's user id), once.
    func create(_ request: Request, caller: Caller) async throws -> Response {
        let new = try await request.decodeJSON(NewCustomer.self, limit: maxBodyBytes).validated()
        let id: UUID
        if caller.isAdmin {
            id = UUID.timeOrdered()
        } else {
            guard let own = caller.customerID else {
                throw APIError.forbidden(
                    "sub",
                    "a token without mercato:admin registers the customer its sub names, which must be a UUID other than the nil UUID"
                )
            }
            guard try await repository.customer(id: own) == nil else {
                throw APIError.conflict("customer_exists", "the customer this token names is registered already")
            }
            id = own
        }
        let customer: Customer
        do {
            customer = try await repository.create(new, id: id, at: Date(), traceparent: request.traceparent)
        } catch let error as CustomerStoreError where error.code == .emailTaken {
            throw APIError.conflict("email_taken", "a customer with this e-mail address exists", field: "email")
        } catch let error as CustomerStoreError where error.code == .idTaken {
            throw APIError.conflict("customer_exists", "the customer this token names is registered already")
        }
        var response = try JSONResponse.make(CustomerResponse(customer), status: .created)
        response.headers[.location] = "/customers/\(customer.id.uuidString.lowercased())"
        return response
    }

    /// Another customer is "not found", as if it did not exist: ids are not enumerable.
    func show(_ idText: String, caller: Caller) async throws -> Response {
        guard let id = UUID(uuidString: idText) else { throw APIError.badParameter("id", "id must be a UUID") }
        guard caller.owns(id), let customer = try await repository.customer(id: id) else {
            throw APIError.notFound("customer \(idText)")
        }
        return try JSONResponse.make(CustomerResponse(customer))
    }

    /// An admin pages through every customer; a customer gets a list of itself; a token that
    /// names no customer gets an empty list, without a lookup.
    func list(_ request: Request, caller: Caller) async throws -> Response {
        let page = try PageRequest(request)
        let customers: [Customer]
        switch caller.visibility() {
        case .all:
            customers = try await repository.customers(page: page)
        case .customer(let own):
            customers = page.after == nil ? try await repository.customer(id: own).map { [$0] } ?? [] : []
        case .nothing:
            customers = []
        }
        return try JSONResponse.make(
            Page(data: customers.map(CustomerResponse.init), limit: page.limit) {
                PageCursor(time: $0.createdAt, id: $0.id)
            })
    }
}
