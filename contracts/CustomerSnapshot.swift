public import Foundation

/// A customer's state as customer-service published it: the payload of both
/// `customer.created` and `customer.updated`.
///
/// Events carry the whole state rather than a change, with a `version` that grows by one per
/// change, so a replica applies an event only when it is newer than what it holds. Duplicated
/// and reordered deliveries then cannot move a replica backwards.
public struct CustomerSnapshot: Codable, Sendable, Hashable {
    /// The customer.
    public var customerID: UUID
    /// Full name.
    public var name: String
    /// E-mail address.
    public var email: String
    /// Postal address.
    public var address: String
    /// Orders counted so far.
    public var ordersCount: Int
    /// Grows by one with every change; 1 when created.
    public var version: Int
    /// When this version was written.
    public var updatedAt: Date

    /// Creates a snapshot.
    public init(
        customerID: UUID, name: String, email: String, address: String, ordersCount: Int, version: Int, updatedAt: Date
    ) {
        self.customerID = customerID
        self.name = name
        self.email = email
        self.address = address
        self.ordersCount = ordersCount
        self.version = version
        self.updatedAt = updatedAt
    }

    enum CodingKeys: String, CodingKey {
        case customerID = "customer_id"
        case name, email, address
        case ordersCount = "orders_count"
        case version
        case updatedAt = "updated_at"
    }
}

/// `customer.created`: customer-service registered a customer.
public struct CustomerCreated: EventPayload {
    public static var eventType: EventType { .customerCreated }

    /// The new customer's state (version 1).
    public var customer: CustomerSnapshot

    /// Creates the payload.
    public init(customer: CustomerSnapshot) { self.customer = customer }

    public init(from decoder: any Decoder) throws { customer = try CustomerSnapshot(from: decoder) }
    public func encode(to encoder: any Encoder) throws { try customer.encode(to: encoder) }
}

/// `customer.updated`: a customer's details or `orders_count` changed. Count changes are
/// coalesced: at most one per customer per `COUNT_PUBLISH_INTERVAL_MS`, with the count as it
/// is then.
public struct CustomerUpdated: EventPayload {
    public static var eventType: EventType { .customerUpdated }

    /// The customer's state after the change.
    public var customer: CustomerSnapshot

    /// Creates the payload.
    public init(customer: CustomerSnapshot) { self.customer = customer }

    public init(from decoder: any Decoder) throws { customer = try CustomerSnapshot(from: decoder) }
    public func encode(to encoder: any Encoder) throws { try customer.encode(to: encoder) }
}
