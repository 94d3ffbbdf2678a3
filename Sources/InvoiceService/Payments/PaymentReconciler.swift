public import Logging
public import ServiceKit
public import ServiceLifecycle

/// Runs ``PaymentProcessor/reconcile(at:)`` every `interval`, and at once when a refund
/// becomes owed, until graceful shutdown.
public struct PaymentReconciler: Service {
    private let processor: PaymentProcessor
    private let readiness: Readiness
    private let interval: Duration
    private let logger: Logger

    /// Creates the loop; it starts once the database is migrated.
    public init(processor: PaymentProcessor, readiness: Readiness, interval: Duration, logger: Logger) {
        self.processor = processor
        self.readiness = readiness
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await readiness.wait(for: [Readiness.database])
            var failures = 0
            while !Task.isCancelled {
                do {
                    // Until a round finds nothing to do: a backlog drains without waiting.
                    while try await processor.reconcile() > 0, !Task.isCancelled {}
                    failures = 0
                } catch {
                    failures += 1
                    if failures % 60 == 1 {
                        logger.warning("payment reconciliation failed; retrying", metadata: ["error.message": "\(error)"])
                    }
                }
                await processor.refundsOwed.wait(timeout: interval)
            }
        }
    }
}
