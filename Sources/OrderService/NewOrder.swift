package import Contracts
package import Foundation
import ServiceKit

/// The body of `POST /orders`.
package struct NewOrder: Codable, Sendable, Equatable {
    /// Who orders.
    package var customerID: UUID
    /// What, at least one line.
    package var items: [Item]

    /// One requested line.
    package struct Item: Codable, Sendable, Equatable {
        /// 1–200 characters.
        package var productName: String
        /// 1–10,000.
        package var quantity: Int
        /// 0–1,000,000 with at most two decimals.
        package var unitPrice: Money

        /// Creates a line.
        package init(productName: String, quantity: Int, unitPrice: Money) {
            self.productName = productName
            self.quantity = quantity
            self.unitPrice = unitPrice
        }

        enum CodingKeys: String, CodingKey {
            case productName = "product_name"
            case quantity
            case unitPrice = "unit_price"
        }

        /// Reads `quantity` as any JSON number first, so `1.5` or `1e30` is reported as this
        /// field's error: JSONDecoder would call either "not valid JSON", naming nothing.
        package init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            productName = try container.decode(String.self, forKey: .productName)
            let number: Decimal
            do {
                number = try container.decode(Decimal.self, forKey: .quantity)
            } catch  where (try? container.decode(Double.self, forKey: .quantity)) != nil {
                // A valid JSON number beyond Decimal's range (1e308): Foundation fails it with an
                // internal error that surfaces as "not valid JSON"; name the field instead.
                throw DecodingError.dataCorruptedError(
                    forKey: .quantity, in: container, debugDescription: "must be an integer from 1 to 10000")
            }
            guard number.isFinite, number == Money(number).rounded(scale: 0).amount, number.magnitude <= 1_000_000_000
            else {
                throw DecodingError.dataCorruptedError(
                    forKey: .quantity, in: container, debugDescription: "must be an integer from 1 to 10000")
            }
            quantity = NSDecimalNumber(decimal: number).intValue
            unitPrice = try container.decode(Money.self, forKey: .unitPrice)
        }
    }

    /// Creates a request.
    package init(customerID: UUID, items: [Item]) {
        self.customerID = customerID
        self.items = items
    }

    enum CodingKeys: String, CodingKey {
        case customerID = "customer_id"
        case items
    }

    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let text = try container.decode(String.self, forKey: .customerID)
        guard let id = UUID(uuidString: text) else {
            throw DecodingError.dataCorruptedError(
                forKey: .customerID, in: container, debugDescription: "must be a UUID")
        }
        customerID = id
        items = try container.decode([Item].self, forKey: .items)
    }

    /// Most lines one order may have.
    package static let maxItems = 100

    /// The largest total an order may have: what `orders.total numeric(14,2)` holds. The line
    /// limits alone allow 100 × 10,000 × 1,000,000.00, which it does not.
    package static let maximumTotal = Money("999999999999.99")!

    /// The checked request: trimmed names, and every rule a 422 names the field of.
    package func validated() throws -> NewOrder {
        guard !items.isEmpty else { throw APIError.invalid("items", "must contain at least one item") }
        guard items.count <= Self.maxItems else {
            throw APIError.invalid("items", "must contain at most \(Self.maxItems) items")
        }
        let checked = try items.enumerated().map { index, item in
            let field = "items[\(index)]"
            let name = try FieldValidation.text(item.productName, field: "\(field).product_name", maxLength: 200)
            guard (1...10_000).contains(item.quantity) else {
                throw APIError.invalid("\(field).quantity", "must be an integer from 1 to 10000")
            }
            guard item.unitPrice >= .zero else { throw APIError.invalid("\(field).unit_price", "must not be negative") }
            guard item.unitPrice <= Money(1_000_000) else {
                throw APIError.invalid("\(field).unit_price", "must be at most 1000000")
            }
            guard item.unitPrice.scale <= 2 else {
                throw APIError.invalid("\(field).unit_price", "must have at most two decimals")
            }
            return Item(productName: name, quantity: item.quantity, unitPrice: item.unitPrice)
        }
        let order = NewOrder(customerID: customerID, items: checked)
        // A total of 0.00 could never be paid (a payment is positive and equals the open
        // amount), and one over the column's range could not be stored: both are refused here,
        // so every order that passes is one the system can store, invoice and settle.
        guard order.total > .zero else { throw APIError.invalid("items", "the order's total must be greater than 0") }
        guard order.total <= Self.maximumTotal else {
            throw APIError.invalid(
                "items", "the order's total must be at most \(Self.maximumTotal), not \(order.total)")
        }
        return order
    }

    /// The order this request places at `time`: created, with a time-ordered id (orders are
    /// inserted in id order, so the index grows at its end).
    package func order(at time: Date) -> Order {
        Order(
            id: UUID.timeOrdered(at: time), customerID: customerID, status: .created, items: lines, total: total,
            createdAt: time, updatedAt: time)
    }

    /// The order's lines with their totals.
    package var lines: [OrderLine] {
        items.map { OrderLine(productName: $0.productName, quantity: $0.quantity, unitPrice: $0.unitPrice) }
    }

    /// What the order comes to.
    package var total: Money { lines.map(\.lineTotal).reduce(.zero, +) }

    /// The request in a canonical form, to tell a retried request from a different one under
    /// the same `Idempotency-Key`.
    package var canonicalJSON: String {
        let encoder = EventCoding.makeEncoder()
        return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? ""
    }
}
