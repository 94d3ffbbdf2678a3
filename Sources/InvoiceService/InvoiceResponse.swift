import Contracts
import Foundation

/// An invoice as the HTTP API shows it: the `invoice.created` payload plus `id`, `number` and
/// where it is in its life.
struct InvoiceResponse: Encodable, Sendable {
    var invoice: Invoice

    enum CodingKeys: String, CodingKey {
        case id, number
        case orderID = "order_id"
        case customerID = "customer_id"
        case lines, subtotal
        case taxRate = "tax_rate"
        case tax, total
        case issuedAt = "issued_at"
        case status
        case dueAt = "due_at"
        case paidAt = "paid_at"
        case overdueAt = "overdue_at"
        case voidedAt = "voided_at"
        case voidReason = "void_reason"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(invoice.id, forKey: .id)
        try container.encode(invoice.number, forKey: .number)
        try container.encode(invoice.orderID, forKey: .orderID)
        try container.encode(invoice.customerID, forKey: .customerID)
        try container.encode(invoice.lines, forKey: .lines)
        try container.encode(invoice.subtotal, forKey: .subtotal)
        try container.encode(invoice.taxRate.description, forKey: .taxRate)
        try container.encode(invoice.tax, forKey: .tax)
        try container.encode(invoice.total, forKey: .total)
        try container.encode(invoice.issuedAt, forKey: .issuedAt)
        try container.encode(invoice.status.rawValue, forKey: .status)
        try container.encodeIfPresent(invoice.dueAt, forKey: .dueAt)
        try container.encodeIfPresent(invoice.paidAt, forKey: .paidAt)
        try container.encodeIfPresent(invoice.overdueAt, forKey: .overdueAt)
        try container.encodeIfPresent(invoice.voidedAt, forKey: .voidedAt)
        try container.encodeIfPresent(invoice.voidReason, forKey: .voidReason)
    }
}
