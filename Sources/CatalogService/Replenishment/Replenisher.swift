package import Foundation
package import Logging
package import ServiceKit
import ServiceLifecycle

/// Buys stock: places the open purchase orders with the supplier and receives what it
/// delivers, every `interval` until graceful shutdown. Each supplier call is bounded by a
/// timeout and a circuit breaker; a failed one is retried with backoff under the same
/// purchase-order id (the supplier's idempotency key), so a retry never orders twice. Several
/// replicas may run it at once: placing is idempotent at the supplier, and receiving is
/// idempotent under the purchase order's row lock.
package struct Replenisher: Service {
    /// How it runs.
    package struct Configuration: Sendable {
        /// `REPLENISH_INTERVAL_MS`: how often it looks. Default 1000.
        package var interval: Duration = .seconds(1)
        /// `SUPPLIER_TIMEOUT_MS`: one supplier call's limit. Default 2000.
        package var timeout: Duration = .seconds(2)
        /// How often a placed purchase order's deliveries are asked about. Default 1 s.
        package var deliveryPoll: Duration = .seconds(1)
        /// `SUPPLIER_CIRCUIT_FAILURES`, `SUPPLIER_CIRCUIT_OPEN_MS`: the breaker (5, 30000).
        package var breaker = CircuitBreaker<ContinuousClock>.Configuration()

        /// The defaults.
        package init() {}
    }

    /// Purchase orders one round handles.
    static let batchSize = 20

    private let chore: PeriodicChore

    /// Creates the replenisher over `store` and `supplier`; it starts once the database is
    /// migrated.
    package init(
        store: any PurchaseOrderStore, supplier: any Supplier, configuration: Configuration, readiness: Readiness,
        logger: Logger
    ) {
        let round = ReplenishmentRound(
            store: store, supplier: supplier, configuration: configuration,
            breaker: CircuitBreaker(configuration: configuration.breaker, clock: ContinuousClock()) { state in
                logger.warning("supplier circuit changed", metadata: ["supplier.circuit": "\(state.rawValue)"])
            }, logger: logger)
        chore = PeriodicChore(
            "replenishing stock", readiness: readiness, interval: configuration.interval, logger: logger
        ) {
            try await round.run(at: Date(), limit: Self.batchSize) == Self.batchSize
        }
    }

    package func run() async throws { try await chore.run() }
}

/// One round of the ``Replenisher``: what is due, placed or asked about once. Separate so tests
/// run rounds one at a time, with the time they choose.
package struct ReplenishmentRound: Sendable {
    let store: any PurchaseOrderStore
    let supplier: any Supplier
    let configuration: Replenisher.Configuration
    let breaker: CircuitBreaker<ContinuousClock>
    let logger: Logger

    /// Creates a round.
    package init(
        store: any PurchaseOrderStore, supplier: any Supplier, configuration: Replenisher.Configuration,
        breaker: CircuitBreaker<ContinuousClock>, logger: Logger
    ) {
        self.store = store
        self.supplier = supplier
        self.configuration = configuration
        self.breaker = breaker
        self.logger = logger
    }

    /// Handles the purchase orders due at `time`, at most `limit`; returns how many were due.
    @discardableResult
    package func run(at time: Date, limit: Int) async throws -> Int {
        let due = try await store.due(at: time, limit: limit)
        let supplier = self.supplier
        for order in due {
            // An open circuit: the supplier is down; nothing is tried until it may be up.
            guard breaker.permit() else { break }
            let id = order.id.uuidString.lowercased()
            do {
                switch order.state {
                case .open:
                    try await withDeadline(configuration.timeout, clock: ContinuousClock()) {
                        try await supplier.place(order)
                    }
                    breaker.record(success: true)
                    try await store.markPlaced(order.id, at: time, next: time + configuration.deliveryPoll)
                    logger.info(
                        "purchase order placed",
                        metadata: [
                            "purchase_order.id": "\(id)", "product.sku": "\(order.sku)", "units": "\(order.quantity)",
                        ])
                case .placed:
                    let delivered = try await withDeadline(configuration.timeout, clock: ContinuousClock()) {
                        try await supplier.delivered(order)
                    }
                    breaker.record(success: true)
                    if let product = try await store.receive(
                        order.id, delivered: delivered, next: time + configuration.deliveryPoll, at: time)
                    {
                        logger.info(
                            "stock replenished",
                            metadata: [
                                "purchase_order.id": "\(id)", "product.sku": "\(order.sku)",
                                "product.on_hand": "\(product.onHand)",
                            ])
                    }
                case .received:
                    break
                }
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                breaker.record(success: false)
                let next = time + PurchaseOrder.backoff(after: order.attempts + 1)
                try await store.markFailed(order.id, error: "\(error)", next: next, at: time)
                logger.warning(
                    "supplier call failed; retrying later",
                    metadata: [
                        "purchase_order.id": "\(id)", "error.message": "\(error)", "attempts": "\(order.attempts + 1)",
                    ])
            }
        }
        return due.count
    }
}

extension Date {
    /// `self` plus `duration`.
    static func + (date: Date, duration: Duration) -> Date {
        date.addingTimeInterval(
            Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18)
    }
}
