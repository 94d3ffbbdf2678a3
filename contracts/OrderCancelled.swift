public import Foundation

/// `order.cancelled`: order-service cancelled an order before it was paid. customer-service
/// takes it out of `orders_count`; invoice-service voids its invoice (refunding a payment
/// that raced the cancellation), or never issues one.
public struct OrderCancelled: EventPayload {
    public static var eventType: EventType { .orderCancelled }

    /// Why an order was cancelled.
    public struct Reason: RawRepresentable, Codable, Sendable, Hashable {
        public var rawValue: String
        /// Creates a reason; the known ones are the static members, others decode as they are.
        public init(rawValue: String) { self.rawValue = rawValue }

        /// The customer (or an operator) asked for it: `POST /orders/{id}/cancel`.
        public static let requested = Reason(rawValue: "requested")
        /// Its invoice was still unpaid at its due date.
        public static let paymentOverdue = Reason(rawValue: "payment_overdue")
        /// catalog-service could not reserve its lines: another order took the last units
        /// after this one was accepted (`stock.rejected`).
        public static let outOfStock = Reason(rawValue: "out_of_stock")

        public init(from decoder: any Decoder) throws {
            rawValue = try decoder.singleValueContainer().decode(String.self)
        }
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            try container.encode(rawValue)
        }
    }

    /// The order.
    public var orderID: UUID
    /// Who placed it.
    public var customerID: UUID
    /// Why.
    public var reason: Reason
    /// When order-service cancelled it.
    public var cancelledAt: Date

    /// Creates the payload.
    public init(orderID: UUID, customerID: UUID, reason: Reason, cancelledAt: Date) {
        self.orderID = orderID
        self.customerID = customerID
        self.reason = reason
        self.cancelledAt = cancelledAt
    }

    enum CodingKeys: String, CodingKey {
        case orderID = "order_id"
        case customerID = "customer_id"
        case reason
        case cancelledAt = "cancelled_at"
    }
}
