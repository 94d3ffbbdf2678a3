import Contracts
import Foundation

/// A payment as the HTTP API shows it, with its invoice's status after it.
struct PaymentResponse: Encodable, Sendable {
    var payment: Payment
    var invoice: Invoice

    enum CodingKeys: String, CodingKey {
        case id
        case invoiceID = "invoice_id"
        case invoiceStatus = "invoice_status"
        case amount, method, status
        case failureReason = "failure_reason"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(payment.id, forKey: .id)
        try container.encode(payment.invoiceID, forKey: .invoiceID)
        try container.encode(invoice.status.rawValue, forKey: .invoiceStatus)
        try container.encode(payment.amount, forKey: .amount)
        try container.encode(payment.method, forKey: .method)
        try container.encode(payment.status.rawValue, forKey: .status)
        try container.encodeIfPresent(payment.failureReason, forKey: .failureReason)
        try container.encode(payment.createdAt, forKey: .createdAt)
        try container.encode(payment.updatedAt, forKey: .updatedAt)
    }
}
