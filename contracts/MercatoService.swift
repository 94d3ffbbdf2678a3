import Foundation

/// One of Mercato's services and everything about it that deployment, the scripts, the CLI and
/// the tests need to know: the one list of services. `deploy/services.tsv` is this list for
/// the shell scripts (DeployTests keeps the two equal), and docs/adding-a-service.md says what
/// else a new entry needs.
public struct MercatoService: Sendable, Hashable, Codable {
    /// Its name: the executable, the broker user, the log label and the prefix of its queues
    /// (`order-service`).
    public var name: String
    /// The HTTP port it listens on by default (`PORT`).
    public var port: Int
    /// Its database (`orders`), owned by ``role``.
    public var database: String
    /// The exchange its events are published to (``ExchangeName``).
    public var exchange: String

    /// Its PostgreSQL role: the name with underscores (`order_service`).
    public var role: String { name.replacingOccurrences(of: "-", with: "_") }

    /// A service.
    public init(name: String, port: Int, database: String, exchange: String) {
        self.name = name
        self.port = port
        self.database = database
        self.exchange = exchange
    }

    /// order-service: orders over HTTP, the live view.
    public static let order = MercatoService(
        name: "order-service", port: 8080, database: "orders", exchange: ExchangeName.orders)
    /// customer-service: customers and their order counts.
    public static let customer = MercatoService(
        name: "customer-service", port: 8081, database: "customers", exchange: ExchangeName.customers)
    /// invoice-service: invoices and payments.
    public static let invoice = MercatoService(
        name: "invoice-service", port: 8082, database: "invoices", exchange: ExchangeName.invoices)

    /// catalog-service: products, prices and stock.
    public static let catalog = MercatoService(
        name: "catalog-service", port: 8083, database: "catalog", exchange: ExchangeName.catalog)

    /// Every service.
    public static let all: [MercatoService] = [.order, .customer, .invoice, .catalog]

    /// The service called `name`, if there is one.
    public static func named(_ name: String) -> MercatoService? { all.first { $0.name == name } }

    /// The list as `deploy/services.tsv` holds it: a header line, then one line per service
    /// (name, port, database, role, exchange), tab-separated.
    public static var table: String {
        (["# name\tport\tdatabase\trole\texchange"]
            + all.map { "\($0.name)\t\($0.port)\t\($0.database)\t\($0.role)\t\($0.exchange)" })
            .joined(separator: "\n") + "\n"
    }
}
