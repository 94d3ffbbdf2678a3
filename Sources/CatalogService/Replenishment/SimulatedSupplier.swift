package import Foundation

/// A supplier for development and tests: latency, random failures, and deliveries that arrive
/// after a delay, half first and the rest one delay later when `partialDeliveries` is on.
///
/// It keeps no books of its own: what it has delivered is a function of the purchase order
/// (its quantity and when it was placed) and the time, so placing an order again, or asking
/// after a restart of catalog-service, gives the same answer — idempotent by purchase-order id,
/// as a real supplier's API is.
package struct SimulatedSupplier: Supplier {
    /// How it behaves.
    package struct Configuration: Sendable {
        /// `SUPPLIER_LATENCY_MS`: each call's latency. Default 50 ms.
        package var latency: Duration = .milliseconds(50)
        /// `SUPPLIER_FAILURE_RATE`: the share of calls that fail (0–1). Default 0.
        package var failureRate = 0.0
        /// `SUPPLIER_DELIVERY_MS`: from placing to the first delivery. Default 5000.
        package var deliveryDelay: Duration = .seconds(5)
        /// `SUPPLIER_PARTIAL_DELIVERIES`: half first, the rest one delay later. Default true.
        package var partialDeliveries = true

        /// The defaults.
        package init() {}
    }

    private let configuration: Configuration
    private let now: @Sendable () -> Date

    /// Creates the supplier; `now` is its clock.
    package init(configuration: Configuration, now: @escaping @Sendable () -> Date = Date.init) {
        self.configuration = configuration
        self.now = now
    }

    package func place(_ order: PurchaseOrder) async throws {
        try await call("placing purchase order \(order.id.uuidString.lowercased())")
    }

    package func delivered(_ order: PurchaseOrder) async throws -> Int {
        try await call("deliveries of purchase order \(order.id.uuidString.lowercased())")
        guard let placedAt = order.placedAt else { return 0 }
        let delay =
            Double(configuration.deliveryDelay.components.seconds)
            + Double(configuration.deliveryDelay.components.attoseconds) / 1e18
        let waited = now().timeIntervalSince(placedAt)
        if waited < delay { return 0 }
        if configuration.partialDeliveries, waited < 2 * delay { return (order.quantity + 1) / 2 }
        return order.quantity
    }

    private func call(_ what: String) async throws {
        if configuration.latency > .zero { try await Task.sleep(for: configuration.latency) }
        if Double.random(in: 0..<1) < configuration.failureRate {
            throw SupplierError("the supplier failed \(what) (simulated)")
        }
    }
}
