public import Logging
public import ServiceKit
public import ServiceLifecycle

/// Runs ``PaymentProcessor/reconcile(at:)`` every `interval`, and at once when a refund
/// becomes owed, until graceful shutdown.
public struct PaymentReconciler: Service {
    private let chore: PeriodicChore

    /// Creates the loop; it starts once the database is migrated.
    public init(processor: PaymentProcessor, readiness: Readiness, interval: Duration, logger: Logger) {
        chore = PeriodicChore("payment reconciliation", readiness: readiness, interval: interval, wakeUp: processor.refundsOwed, logger: logger) {
            try await processor.reconcile() > 0
        }
    }

    public func run() async throws { try await chore.run() }
}
