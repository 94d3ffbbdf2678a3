import Contracts
import Foundation
package import Hummingbird
package import HummingbirdAuth
package import ServiceKit

/// invoice-service's HTTP API: `GET /invoices/{id}`, `GET /invoices?order_id=…` (scope
/// `invoices:read`), `POST /invoices/{id}/payments` (`invoices:write`) and
/// `GET /invoices/{id}/payments` (`invoices:read`). A caller without `mercato:admin` sees and
/// pays its own customer's invoices only.
package struct InvoiceRoutes: Sendable {
    private let invoices: any InvoiceStore
    private let paymentStore: any PaymentStore
    private let payments: PaymentProcessor
    private let maxBodyBytes: Int

    /// Creates the routes over `invoices` and `paymentStore`, paying through `payments`.
    package init(
        invoices: any InvoiceStore, paymentStore: any PaymentStore, payments: PaymentProcessor, maxBodyBytes: Int
    ) {
        self.invoices = invoices
        self.paymentStore = paymentStore
        self.payments = payments
        self.maxBodyBytes = maxBodyBytes
    }

    /// Adds the routes to `router`.
    package func add<Context: AuthRequestContext<Caller>>(to router: Router<Context>, access: AccessGuard) {
        access.requiring(.invoicesRead, on: router).get("/invoices/:id") { _, context in
            try await show(context.parameters.get("id") ?? "", caller: context.caller)
        }
        access.requiring(.invoicesRead, on: router).get("/invoices") { request, context in
            try await list(request, caller: context.caller)
        }
        access.requiring(.invoicesWrite, on: router).post("/invoices/:id/payments") { request, context in
            try await pay(context.parameters.get("id") ?? "", request, caller: context.caller)
        }
        access.requiring(.invoicesRead, on: router).get("/invoices/:id/payments") { _, context in
            try await listPayments(context.parameters.get("id") ?? "", caller: context.caller)
        }
    }

    /// The caller's invoice: another customer's is "not found", as if it did not exist.
    private func ownInvoice(_ idText: String, caller: Caller) async throws -> Invoice {
        guard let id = UUID(uuidString: idText) else { throw APIError.badParameter("id", "id must be a UUID") }
        guard let invoice = try await invoices.invoice(id: id), caller.owns(invoice.customerID) else {
            throw APIError.notFound("invoice \(idText)")
        }
        return invoice
    }

    func show(_ idText: String, caller: Caller) async throws -> Response {
        try JSONResponse.make(InvoiceResponse(invoice: try await ownInvoice(idText, caller: caller)))
    }

    /// With `order_id`, that order's invoice (a list of zero or one); without, a page of all.
    func list(_ request: Request, caller: Caller) async throws -> Response {
        // Checked whether or not they are used: a bad parameter is a 400 either way.
        let page = try PageRequest(request)
        if let text = request.uri.queryParameters.get("order_id") {
            guard let orderID = UUID(uuidString: text) else {
                throw APIError.badParameter("order_id", "order_id must be a UUID")
            }
            let invoice = try await invoices.invoice(orderID: orderID).flatMap {
                caller.owns($0.customerID) ? $0 : nil
            }
            return try JSONResponse.make(
                Page(data: invoice.map { [InvoiceResponse(invoice: $0)] } ?? [], limit: .max) {
                    PageCursor(time: $0.invoice.issuedAt, id: $0.invoice.id)
                })
        }
        let found = try await caller.visibility().query(empty: []) {
            try await invoices.invoices(page: page, customerID: $0)
        }
        return try JSONResponse.make(
            Page(data: found.map { InvoiceResponse(invoice: $0) }, limit: page.limit) {
                PageCursor(time: $0.invoice.issuedAt, id: $0.invoice.id)
            })
    }

    func listPayments(_ idText: String, caller: Caller) async throws -> Response {
        let invoice = try await ownInvoice(idText, caller: caller)
        let list = try await paymentStore.payments(invoiceID: invoice.id).map {
            PaymentResponse(payment: $0, invoice: invoice)
        }
        return try JSONResponse.make(
            Page(data: list, limit: .max) { PageCursor(time: $0.payment.createdAt, id: $0.payment.id) })
    }

    /// Pays an invoice in full. The answer says what the provider did: 201 captured, 402
    /// declined, 409 when the invoice cannot be paid (paid, overdue, void — including a
    /// payment that raced the order's cancellation and is refunded) or the payment was
    /// cancelled at the provider, 503 when the provider is unavailable (nothing charged) or its
    /// answer is not known yet; a retry with the same `Idempotency-Key` never charges twice and
    /// answers what the first request came to.
    func pay(_ idText: String, _ request: Request, caller: Caller) async throws -> Response {
        let invoice = try await ownInvoice(idText, caller: caller)
        guard let key = try request.idempotencyKey() else {
            throw APIError.badParameter(
                "Idempotency-Key", "a payment needs an Idempotency-Key header, so that a retry cannot pay twice")
        }
        let body = try await request.decodeJSON(NewPaymentBody.self, limit: maxBodyBytes).validated()
        let new = NewPayment(
            invoiceID: invoice.id, idempotencyKey: key, request: body.canonicalJSON, amount: body.amount,
            method: body.method,
            token: body.paymentToken, traceparent: request.traceparent)
        let (payment, after): (Payment, Invoice)
        do {
            (payment, after) = try await payments.pay(new)
        } catch let error as InvoiceStoreError {
            throw Self.answer(error)
        }
        switch payment.status {
        case .captured where payment.refundDue == nil:
            return try JSONResponse.make(PaymentResponse(payment: payment, invoice: after), status: .created)
        case .captured, .refunded:
            // Money that landed where it cannot stay: it is given back.
            switch payment.refundDue {
            case .invoicePaidByAnother:
                throw APIError.conflict(
                    "invoice_paid", "invoice \(after.number) was paid by another payment; this one is refunded")
            case .invoiceOverdue:
                throw APIError.conflict(
                    "invoice_overdue", "invoice \(after.number) was closed as overdue; this payment is refunded")
            case .invoiceVoid, nil:
                throw APIError.conflict(
                    "invoice_void", "the order was cancelled while this payment was made; the payment is refunded")
            }
        case .declined:
            throw APIError(
                status: .init(code: 402, reasonPhrase: "Payment Required"), code: "payment_declined",
                message: "the payment was declined: \(payment.failureReason ?? "declined")", field: "payment_token")
        case .cancelled:
            throw APIError.conflict(
                "payment_cancelled",
                "the provider never completed this payment, so it was cancelled: nothing was charged. Pay again with a new Idempotency-Key"
            )
        case .failed where after.isOverdue(at: Date()):
            // Its due date passed meanwhile: a retry under the key would be refused.
            throw Self.answer(
                InvoiceStoreError(.overdue, "invoice \(after.number) is past its due date; nothing was charged"))
        case .failed where after.status != .issued:
            throw Self.answer(
                InvoiceStoreError(
                    after.status == .paid ? .alreadyPaid : after.status == .overdue ? .overdue : .void,
                    "invoice \(after.number) is \(after.status.rawValue)"))
        case .failed:
            throw APIError(
                status: .serviceUnavailable, code: "payment_provider_unavailable",
                message:
                    "the payment provider is unavailable; nothing was charged. Retry later (the same Idempotency-Key may be reused)"
            )
        case .pending:
            throw APIError(
                status: .serviceUnavailable, code: "payment_outcome_unknown",
                message:
                    "the payment provider has not answered yet; retry with the same Idempotency-Key to learn the outcome (it never charges twice)"
            )
        }
    }

    static func answer(_ error: InvoiceStoreError) -> APIError {
        switch error.code {
        case .notFound: .notFound("invoice")
        case .alreadyPaid: .conflict("invoice_paid", error.message)
        case .void: .conflict("invoice_void", error.message)
        case .wrongAmount: .invalid("amount", error.message)
        case .paymentInProgress: .conflict("payment_in_progress", error.message)
        case .idempotencyKeyReused: .conflict("idempotency_key_reused", error.message, field: "Idempotency-Key")
        case .overdue: .conflict("invoice_overdue", error.message)
        default: .conflict("conflict", error.message)
        }
    }
}
