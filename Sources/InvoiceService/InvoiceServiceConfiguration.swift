public import Foundation
public import ServiceKit

/// invoice-service's configuration: the common variables plus `TAX_RATE`.
public struct InvoiceServiceConfiguration: Sendable {
    /// `PORT` (default 8082), `AMQP_URL`, `DATABASE_URL` (default database `invoices`), ….
    public var service: ServiceConfiguration
    /// `TAX_RATE`: a decimal from 0 to 1, e.g. `0.20`. Default 0.20.
    public var taxRate: Decimal

    /// Reads the environment.
    public init(environment: EnvironmentReader = EnvironmentReader()) throws {
        service = try ServiceConfiguration(serviceName: "invoice-service", defaultPort: 8082, defaultDatabase: "invoices", environment: environment)
        taxRate = try environment.decimal("TAX_RATE", default: Decimal(string: "0.20")!, in: 0...1)
    }
}
