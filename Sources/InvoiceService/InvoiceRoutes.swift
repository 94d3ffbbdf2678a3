import Foundation
public import Hummingbird
public import HummingbirdAuth
public import ServiceKit

/// invoice-service's HTTP API: `GET /invoices/{id}`, `GET /invoices?order_id=…`. Both need
/// `invoices:read`; a caller without `mercato:admin` sees its own customer's invoices only.
public struct InvoiceRoutes: Sendable {
    private let repository: any InvoiceRepository

    /// Creates the routes over `repository`.
    public init(repository: any InvoiceRepository) {
        self.repository = repository
    }

    /// Adds the routes to `router`.
    public func add<Context: AuthRequestContext<Caller>>(to router: Router<Context>, access: AccessGuard) {
        access.requiring(.invoicesRead, on: router).get("/invoices/:id") { _, context in
            try await show(context.parameters.get("id") ?? "", caller: context.caller)
        }
        access.requiring(.invoicesRead, on: router).get("/invoices") { request, context in try await list(request, caller: context.caller) }
    }

    /// Another customer's invoice is "not found", as if it did not exist.
    func show(_ idText: String, caller: Caller) async throws -> Response {
        guard let id = UUID(uuidString: idText) else { throw APIError.badParameter("id", "id must be a UUID") }
        guard let invoice = try await repository.invoice(id: id), caller.owns(invoice.customerID) else {
            throw APIError.notFound("invoice \(idText)")
        }
        return try JSONResponse.make(InvoiceResponse(invoice: invoice))
    }

    /// With `order_id`, that order's invoice (a list of zero or one); without, a page of all.
    func list(_ request: Request, caller: Caller) async throws -> Response {
        // Checked whether or not they are used: a bad parameter is a 400 either way.
        let page = try PageRequest(request)
        if let text = request.uri.queryParameters.get("order_id") {
            guard let orderID = UUID(uuidString: text) else { throw APIError.badParameter("order_id", "order_id must be a UUID") }
            let invoice = try await repository.invoice(orderID: orderID).flatMap { caller.owns($0.customerID) ? $0 : nil }
            return try JSONResponse.make(Page(data: invoice.map { [InvoiceResponse(invoice: $0)] } ?? [], limit: .max) {
                PageCursor(time: $0.invoice.issuedAt, id: $0.invoice.id)
            })
        }
        let invoices = try await repository.invoices(page: page, customerID: caller.listFilter(asked: nil))
        return try JSONResponse.make(Page(data: invoices.map { InvoiceResponse(invoice: $0) }, limit: page.limit) {
            PageCursor(time: $0.invoice.issuedAt, id: $0.invoice.id)
        })
    }
}
