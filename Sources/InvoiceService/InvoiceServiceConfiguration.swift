import Contracts
package import Foundation
package import ServiceKit

/// invoice-service's configuration: the common variables, `TAX_RATE`, `PAYMENT_DUE_SECONDS`,
/// and the payment provider's (`PAYMENT_GATEWAY_*`, `PAYMENT_CIRCUIT_*`, `PAYMENT_SIM_*`).
package struct InvoiceServiceConfiguration: Sendable {
    /// `PORT` (default 8082), `AMQP_URL`, `DATABASE_URL` (default database `invoices`), ….
    package var service: ServiceConfiguration
    /// `TAX_RATE`: a decimal from 0 to 1 with at most four decimals, e.g. `0.20` or
    /// `0.1925`. Default 0.20.
    package var taxRate: Decimal
    /// `PAYMENT_DUE_SECONDS`: how long after issue an invoice is due; one still unpaid then is
    /// closed as overdue and its order cancelled. Default 7 days.
    package var paymentDue: Duration
    /// `PAYMENT_SWEEP_INTERVAL_MS`: how often invoices unpaid at their due date are looked for
    /// and closed as overdue. Default 10 s.
    package var overdueSweepInterval: Duration
    /// Timeout, retries and circuit breaker around the provider.
    package var gateway: ResilientPaymentGateway<ContinuousClock>.Configuration
    /// The simulated provider's behaviour.
    package var simulator: SimulatedPaymentGateway<ContinuousClock>.Configuration
    /// `PAYMENT_RECONCILE_INTERVAL_MS`: how often refunds owed and abandoned payments are
    /// looked for (a refund owed is also started at once). Default 5 s.
    package var reconcileInterval: Duration

    /// The invoicing terms.
    package var terms: InvoicingTerms { InvoicingTerms(taxRate: taxRate, paymentDue: paymentDue) }

    /// Reads the environment.
    package init(environment: EnvironmentReader = EnvironmentReader()) throws {
        service = try ServiceConfiguration(
            serviceName: "invoice-service", defaultPort: 8082, defaultDatabase: "invoices", environment: environment)
        taxRate = try environment.decimal("TAX_RATE", default: Decimal(string: "0.20")!, in: 0...1)
        // Invoices store the rate as numeric(6,4): a finer one would be stored rounded but
        // applied in full, and an invoice's rate would not give its tax.
        guard Money(taxRate).scale <= 4 else {
            throw ConfigurationError(
                variable: "TAX_RATE",
                message: "at most four decimals (invoices store the rate as numeric(6,4)), got \(taxRate)")
        }
        paymentDue = .seconds(
            try environment.int("PAYMENT_DUE_SECONDS", default: 7 * 24 * 3600, in: 1...(10 * 366 * 24 * 3600)))
        overdueSweepInterval = .milliseconds(
            try environment.int("PAYMENT_SWEEP_INTERVAL_MS", default: 10_000, in: 10...3_600_000))
        gateway = .init()
        gateway.timeout = .milliseconds(
            try environment.int("PAYMENT_GATEWAY_TIMEOUT_MS", default: 2000, in: 10...120_000))
        gateway.attempts = try environment.int("PAYMENT_GATEWAY_ATTEMPTS", default: 3, in: 1...10)
        gateway.breaker.failureThreshold = try environment.int("PAYMENT_CIRCUIT_FAILURES", default: 5, in: 1...1000)
        gateway.breaker.openDuration = .milliseconds(
            try environment.int("PAYMENT_CIRCUIT_OPEN_MS", default: 30_000, in: 10...3_600_000))
        simulator = .init()
        simulator.latency = .milliseconds(try environment.int("PAYMENT_SIM_LATENCY_MS", default: 20, in: 0...600_000))
        simulator.testMode = try environment.bool("PAYMENT_SIM_TEST_MODE", default: false)
        simulator.slowCharge = .milliseconds(try environment.int("PAYMENT_SIM_SLOW_MS", default: 1000, in: 0...600_000))
        func rate(_ name: String) throws -> Double {
            NSDecimalNumber(decimal: try environment.decimal(name, default: 0, in: 0...1)).doubleValue
        }
        simulator.failureRate = try rate("PAYMENT_SIM_FAILURE_RATE")
        simulator.declineRate = try rate("PAYMENT_SIM_DECLINE_RATE")
        simulator.lostResponseRate = try rate("PAYMENT_SIM_LOST_RESPONSE_RATE")
        simulator.hangRate =
            try environment.bool("PAYMENT_SIM_HANG", default: false) ? 1 : try rate("PAYMENT_SIM_HANG_RATE")
        reconcileInterval = .milliseconds(
            try environment.int("PAYMENT_RECONCILE_INTERVAL_MS", default: 5000, in: 10...3_600_000))
    }
}
