/// A permission a token grants, from its space-separated `scope` claim.
public struct Scope: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: String

    /// Creates a scope from its name, e.g. `orders:read`.
    public init(rawValue: String) {
        self.rawValue = rawValue
    }

    public var description: String { rawValue }

    /// `GET /customers…`.
    public static let customersRead = Scope(rawValue: "customers:read")
    /// `POST /customers`.
    public static let customersWrite = Scope(rawValue: "customers:write")
    /// `GET /orders…`.
    public static let ordersRead = Scope(rawValue: "orders:read")
    /// `POST /orders`.
    public static let ordersWrite = Scope(rawValue: "orders:write")
    /// `GET /invoices…`.
    public static let invoicesRead = Scope(rawValue: "invoices:read")
    /// `POST /invoices/{id}/payments`.
    public static let invoicesWrite = Scope(rawValue: "invoices:write")
    /// `POST /products`, `PATCH /products/{sku}`, `POST /products/{sku}/stock`: the shop's
    /// own staff (an operator's token carries it). Reading the catalog needs only a valid
    /// token.
    public static let catalogWrite = Scope(rawValue: "catalog:write")
    /// Any customer's data: without it, a caller sees and acts on its own customer only.
    public static let admin = Scope(rawValue: "mercato:admin")

    /// Every scope Mercato knows, as an operator's token carries them.
    public static let all: [Scope] = [
        .customersRead, .customersWrite, .ordersRead, .ordersWrite, .invoicesRead, .invoicesWrite, .catalogWrite,
        .admin,
    ]

    /// What a customer's own token carries: everything on its own data, nothing beyond.
    public static let customer: [Scope] = [
        .customersRead, .customersWrite, .ordersRead, .ordersWrite, .invoicesRead, .invoicesWrite,
    ]
}
