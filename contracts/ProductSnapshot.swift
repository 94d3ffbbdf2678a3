public import Foundation

/// A product's state as catalog-service published it: the payload of both `product.created`
/// and `product.updated`.
///
/// As with customers, events carry the whole state with a `version` that grows by one per
/// change, so order-service's replica applies an event only when it is newer than what it
/// holds: duplicated and reordered deliveries cannot move it backwards.
public struct ProductSnapshot: Codable, Sendable, Hashable {
    /// The key a client orders by, e.g. `TEA-EARLGREY-100G`.
    public var sku: String
    /// What the invoice line says.
    public var name: String
    /// The price of one unit, exact, in the system's one currency.
    public var price: Money
    /// Whether it may be ordered.
    public var active: Bool
    /// Units that may still be reserved: on hand − reserved, never negative.
    public var available: Int
    /// Grows by one with every change; 1 when created.
    public var version: Int
    /// When this version was written.
    public var updatedAt: Date
    /// Units promised to orders (since the AsyncAPI document 1.2.0; absent before).
    public var reserved: Int?
    /// Units ordered from the supplier and not received yet (since 1.2.0; absent before).
    public var onOrder: Int?

    /// Creates a snapshot.
    public init(
        sku: String, name: String, price: Money, active: Bool, available: Int, version: Int, updatedAt: Date,
        reserved: Int? = nil, onOrder: Int? = nil
    ) {
        self.reserved = reserved
        self.onOrder = onOrder
        self.sku = sku
        self.name = name
        self.price = price
        self.active = active
        self.available = available
        self.version = version
        self.updatedAt = updatedAt
    }

    enum CodingKeys: String, CodingKey {
        case sku, name, price, active, available, version, reserved
        case updatedAt = "updated_at"
        case onOrder = "on_order"
    }
}

/// `product.created`: catalog-service added a product.
public struct ProductCreated: EventPayload {
    public static var eventType: EventType { .productCreated }

    /// The new product's state (version 1).
    public var product: ProductSnapshot

    /// Creates the payload.
    public init(product: ProductSnapshot) { self.product = product }

    public init(from decoder: any Decoder) throws { product = try ProductSnapshot(from: decoder) }
    public func encode(to encoder: any Encoder) throws { try product.encode(to: encoder) }
}

/// `product.updated`: a product's price, name, activity or availability changed.
/// Availability changes are coalesced: at most one per product per batch of reservations,
/// with the availability as the batch left it.
public struct ProductUpdated: EventPayload {
    public static var eventType: EventType { .productUpdated }

    /// The product's state after the change.
    public var product: ProductSnapshot

    /// Creates the payload.
    public init(product: ProductSnapshot) { self.product = product }

    public init(from decoder: any Decoder) throws { product = try ProductSnapshot(from: decoder) }
    public func encode(to encoder: any Encoder) throws { try product.encode(to: encoder) }
}
