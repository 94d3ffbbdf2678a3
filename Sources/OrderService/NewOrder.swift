package import Contracts
package import Foundation
import ServiceKit

/// The body of `POST /orders`.
package struct NewOrder: Codable, Sendable, Equatable {
    /// Who orders.
    package var customerID: UUID
    /// What, at least one line.
    package var items: [Item]

    /// One requested line: a product of the catalog and how many. Its name and price come
    /// from the catalog, never from the client.
    package struct Item: Codable, Sendable, Equatable {
        /// The product's SKU (case and surrounding spaces do not matter).
        package var sku: String
        /// 1–10,000.
        package var quantity: Int

        /// Creates a line.
        package init(sku: String, quantity: Int) {
            self.sku = sku
            self.quantity = quantity
        }

        enum CodingKeys: String, CodingKey {
            case sku, quantity
        }

        /// What a client set before the catalog, now refused by name: a price or a name sent
        /// with a line would otherwise be dropped silently, and the client would believe it
        /// had set them.
        private enum RetiredKeys: String, CodingKey {
            case unitPrice = "unit_price"
            case productName = "product_name"
        }

        /// Reads `quantity` as any JSON number first, so `1.5` or `1e30` is reported as this
        /// field's error: JSONDecoder would call either "not valid JSON", naming nothing.
        package init(from decoder: any Decoder) throws {
            let retired = try decoder.container(keyedBy: RetiredKeys.self)
            for key in [RetiredKeys.unitPrice, .productName] where retired.contains(key) {
                throw DecodingError.dataCorruptedError(
                    forKey: key, in: retired,
                    debugDescription:
                        "must not be sent: names and prices come from the catalog; send each line's sku and quantity")
            }
            let container = try decoder.container(keyedBy: CodingKeys.self)
            sku = try container.decode(String.self, forKey: .sku)
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
    /// limits and the catalog's prices allow 100 × 10,000 × 1,000,000.00, which it does not.
    package static let maximumTotal = Money("999999999999.99")!

    /// The checked request: SKUs as the catalog keeps them, and every rule a 422 names the
    /// field of.
    package func validated() throws -> NewOrder {
        guard !items.isEmpty else { throw APIError.invalid("items", "must contain at least one item") }
        guard items.count <= Self.maxItems else {
            throw APIError.invalid("items", "must contain at most \(Self.maxItems) items")
        }
        let checked = try items.enumerated().map { index, item in
            let field = "items[\(index)]"
            guard (1...10_000).contains(item.quantity) else {
                throw APIError.invalid("\(field).quantity", "must be an integer from 1 to 10000")
            }
            return Item(sku: try FieldValidation.sku(item.sku, field: "\(field).sku"), quantity: item.quantity)
        }
        return NewOrder(customerID: customerID, items: checked)
    }

    /// Units asked for of each SKU (a SKU on several lines is summed).
    package var quantities: [String: Int] {
        items.reduce(into: [:]) { $0[$1.sku, default: 0] += $1.quantity }
    }

    /// The order this request places at `time`, each line named and priced as `products` (the
    /// catalog, by SKU) say: created, with a time-ordered id (orders are inserted in id order,
    /// so the index grows at its end). Throws the 422 of a total no order may have.
    package func order(pricedBy products: [String: ProductSnapshot], at time: Date) throws -> Order {
        let lines = try items.enumerated().map { index, item in
            guard let product = products[item.sku] else {
                throw APIError.invalid("items[\(index)].sku", "no product with SKU \(item.sku)")
            }
            return OrderLine(
                sku: item.sku, productName: product.name, quantity: item.quantity, unitPrice: product.price)
        }
        let total = lines.map(\.lineTotal).reduce(.zero, +)
        // A total of 0.00 could never be paid (a payment is positive and equals the open
        // amount), and one over the column's range could not be stored: both are refused here,
        // so every order that passes is one the system can store, invoice and settle.
        guard total > .zero else { throw APIError.invalid("items", "the order's total must be greater than 0") }
        guard total <= Self.maximumTotal else {
            throw APIError.invalid("items", "the order's total must be at most \(Self.maximumTotal), not \(total)")
        }
        return Order(
            id: UUID.timeOrdered(at: time), customerID: customerID, status: .created, items: lines, total: total,
            createdAt: time, updatedAt: time)
    }

    /// The request in a canonical form, to tell a retried request from a different one under
    /// the same `Idempotency-Key`.
    package var canonicalJSON: String {
        let encoder = EventCoding.makeEncoder()
        return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? ""
    }
}
