import Contracts
import Foundation

/// An order as the HTTP API shows it, with its customer as order-service knows them.
struct OrderResponse: Encodable, Sendable {
    struct Customer: Encodable, Sendable {
        var id: UUID
        var name: String
        var address: String
        var ordersCount: Int

        enum CodingKeys: String, CodingKey {
            case id, name, address
            case ordersCount = "orders_count"
        }
    }

    var id: UUID
    var customerID: UUID
    var status: Order.Status
    var items: [OrderLine]
    var total: Money
    var invoiceID: UUID?
    var invoiceNumber: String?
    var createdAt: Date
    var updatedAt: Date
    var paymentDueAt: Date?
    var paidAt: Date?
    var cancelledAt: Date?
    var cancelReason: String?
    var refundedAt: Date?
    var invoiceVoidedAt: Date?
    var customer: Customer?

    init(_ order: Order, customer: CustomerSnapshot?) {
        id = order.id
        customerID = order.customerID
        status = order.status
        items = order.items
        total = order.total
        invoiceID = order.invoiceID
        invoiceNumber = order.invoiceNumber
        createdAt = order.createdAt
        updatedAt = order.updatedAt
        paymentDueAt = order.paymentDueAt
        paidAt = order.paidAt
        cancelledAt = order.cancelledAt
        cancelReason = order.cancelReason
        refundedAt = order.refundedAt
        invoiceVoidedAt = order.invoiceVoidedAt
        self.customer = customer.map {
            Customer(id: $0.customerID, name: $0.name, address: $0.address, ordersCount: $0.ordersCount)
        }
    }

    enum CodingKeys: String, CodingKey {
        case id
        case customerID = "customer_id"
        case status, items, total
        case invoiceID = "invoice_id"
        case invoiceNumber = "invoice_number"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
        case paymentDueAt = "payment_due_at"
        case paidAt = "paid_at"
        case cancelledAt = "cancelled_at"
        case cancelReason = "cancel_reason"
        case refundedAt = "refunded_at"
        case invoiceVoidedAt = "invoice_voided_at"
        case customer
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(customerID, forKey: .customerID)
        try container.encode(status, forKey: .status)
        try container.encode(items, forKey: .items)
        try container.encode(total, forKey: .total)
        // Present as null until invoiced, so clients see the field exists.
        if let invoiceID {
            try container.encode(invoiceID, forKey: .invoiceID)
        } else {
            try container.encodeNil(forKey: .invoiceID)
        }
        try container.encode(invoiceNumber, forKey: .invoiceNumber)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(updatedAt, forKey: .updatedAt)
        try container.encodeIfPresent(paymentDueAt, forKey: .paymentDueAt)
        try container.encodeIfPresent(paidAt, forKey: .paidAt)
        try container.encodeIfPresent(cancelledAt, forKey: .cancelledAt)
        try container.encodeIfPresent(cancelReason, forKey: .cancelReason)
        try container.encodeIfPresent(refundedAt, forKey: .refundedAt)
        try container.encodeIfPresent(invoiceVoidedAt, forKey: .invoiceVoidedAt)
        try container.encodeIfPresent(customer, forKey: .customer)
    }
}
