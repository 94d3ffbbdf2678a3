package import Logging
package import ServiceKit
import ServiceLifecycle

/// Runs ``PaymentProcessor/reconcile(at:)`` every `interval`, and at once when a refund
/// becomes owed, until graceful shutdown.
package struct PaymentReconciler: Service {
    private let chore: PeriodicChore

    /// Creates the loop; it starts once the database is migrated.
    package init(processor: PaymentProcessor, readiness: Readiness, interval: Duration, logger: Logger) {
        chore = PeriodicChore(
            "payment reconciliation", readiness: readiness, interval: interval, wakeUp: processor.refundsOwed,
            logger: logger
        ) {
            try await processor.reconcile() > 0
        }
    }

    package func run() async throws { try await chore.run() }
}
