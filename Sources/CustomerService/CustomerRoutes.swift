import Foundation
public import Hummingbird
import ServiceKit

/// customer-service's HTTP API: `POST /customers`, `GET /customers/{id}`, `GET /customers`.
public struct CustomerRoutes: Sendable {
    private let repository: any CustomerRepository
    private let maxBodyBytes: Int

    /// Creates the routes over `repository`.
    public init(repository: any CustomerRepository, maxBodyBytes: Int) {
        self.repository = repository
        self.maxBodyBytes = maxBodyBytes
    }

    /// Adds the routes to `router`.
    public func add<Context: RequestContext>(to router: Router<Context>) {
        router.post("/customers") { request, _ in try await create(request) }
        router.get("/customers/:id") { _, context in try await show(context.parameters.get("id") ?? "") }
        router.get("/customers") { request, _ in try await list(request) }
    }

    func create(_ request: Request) async throws -> Response {
        let new = try await request.decodeJSON(NewCustomer.self, limit: maxBodyBytes).validated()
        let customer: Customer
        do {
            customer = try await repository.create(new, id: UUID(), at: Date(), traceparent: request.traceparent)
        } catch let error as CustomerStoreError where error.code == .emailTaken {
            throw APIError.conflict("email_taken", "a customer with this e-mail address exists", field: "email")
        }
        var response = try JSONResponse.make(CustomerResponse(customer), status: .created)
        response.headers[.location] = "/customers/\(customer.id.uuidString.lowercased())"
        return response
    }

    func show(_ idText: String) async throws -> Response {
        guard let id = UUID(uuidString: idText) else { throw APIError.badParameter("id", "id must be a UUID") }
        guard let customer = try await repository.customer(id: id) else { throw APIError.notFound("customer \(idText)") }
        return try JSONResponse.make(CustomerResponse(customer))
    }

    func list(_ request: Request) async throws -> Response {
        let page = try PageRequest(request)
        let customers = try await repository.customers(page: page)
        return try JSONResponse.make(Page(data: customers.map(CustomerResponse.init), limit: page.limit) {
            PageCursor(time: $0.createdAt, id: $0.id)
        })
    }
}
