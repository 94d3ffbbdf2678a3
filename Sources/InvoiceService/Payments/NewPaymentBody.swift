import Contracts
import Foundation
import ServiceKit

/// The body of `POST /invoices/{id}/payments`.
struct NewPaymentBody: Codable, Sendable, Equatable {
    /// Must equal the invoice's open amount.
    var amount: Money
    /// One of ``methods``.
    var method: String
    /// What the client's provider SDK produced for the method, passed on to the provider.
    var paymentToken: String?

    /// The methods the provider takes.
    static let methods = ["card", "bank_transfer", "wallet"]

    enum CodingKeys: String, CodingKey {
        case amount, method
        case paymentToken = "payment_token"
    }

    /// The checked request, or a 422 naming the field.
    func validated() throws -> NewPaymentBody {
        guard amount > .zero else { throw APIError.invalid("amount", "must be greater than 0") }
        guard amount.scale <= 2 else { throw APIError.invalid("amount", "must have at most two decimals") }
        guard Self.methods.contains(method) else {
            throw APIError.invalid("method", "must be one of \(Self.methods.joined(separator: ", "))")
        }
        let token = try paymentToken.map { try FieldValidation.text($0, field: "payment_token", maxLength: 200) }
        return NewPaymentBody(amount: amount.rounded(scale: 2), method: method, paymentToken: token)
    }

    /// The request in a canonical form, to tell a retried request from a different one under
    /// the same `Idempotency-Key`.
    var canonicalJSON: String {
        (try? EventCoding.makeEncoder().encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? ""
    }
}
