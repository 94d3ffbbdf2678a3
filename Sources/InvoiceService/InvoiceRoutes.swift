import Foundation
public import Hummingbird
import ServiceKit

/// invoice-service's HTTP API: `GET /invoices/{id}`, `GET /invoices?order_id=…`.
public struct InvoiceRoutes: Sendable {
    private let repository: any InvoiceRepository

    /// Creates the routes over `repository`.
    public init(repository: any InvoiceRepository) {
        self.repository = repository
    }

    /// Adds the routes to `router`.
    public func add<Context: RequestContext>(to router: Router<Context>) {
        router.get("/invoices/:id") { _, context in try await show(context.parameters.get("id") ?? "") }
        router.get("/invoices") { request, _ in try await list(request) }
    }

    func show(_ idText: String) async throws -> Response {
        guard let id = UUID(uuidString: idText) else { throw APIError.badParameter("id", "id must be a UUID") }
        guard let invoice = try await repository.invoice(id: id) else { throw APIError.notFound("invoice \(idText)") }
        return try JSONResponse.make(InvoiceResponse(invoice: invoice))
    }

    /// With `order_id`, that order's invoice (a list of zero or one); without, a page of all.
    func list(_ request: Request) async throws -> Response {
        // Checked whether or not they are used: a bad parameter is a 400 either way.
        let page = try PageRequest(request)
        if let text = request.uri.queryParameters.get("order_id") {
            guard let orderID = UUID(uuidString: text) else { throw APIError.badParameter("order_id", "order_id must be a UUID") }
            let invoice = try await repository.invoice(orderID: orderID)
            return try JSONResponse.make(Page(data: invoice.map { [InvoiceResponse(invoice: $0)] } ?? [], limit: .max) {
                PageCursor(time: $0.invoice.issuedAt, id: $0.invoice.id)
            })
        }
        let invoices = try await repository.invoices(page: page)
        return try JSONResponse.make(Page(data: invoices.map { InvoiceResponse(invoice: $0) }, limit: page.limit) {
            PageCursor(time: $0.invoice.issuedAt, id: $0.invoice.id)
        })
    }
}
