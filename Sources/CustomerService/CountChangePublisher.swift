package import Logging
package import ServiceKit
import ServiceLifecycle

/// Announces `orders_count` changes: every interval it queues one `customer.updated` per
/// customer whose count moved (``CustomerRepository/publishCountChanges(limit:)``), so a
/// customer who orders a hundred times a second costs one event a second, not a hundred.
/// Several replicas publish side by side without coordinating (`SKIP LOCKED`); a change left
/// at shutdown is announced by the next start.
package struct CountChangePublisher: Service {
    /// How many customers one transaction announces.
    static let batchSize = 500

    private let chore: PeriodicChore

    /// Creates the publisher; it starts once the database is migrated.
    package init(repository: any CustomerRepository, readiness: Readiness, interval: Duration, logger: Logger) {
        chore = PeriodicChore(
            "announcing orders_count changes", readiness: readiness, interval: interval, logger: logger
        ) {
            try await repository.publishCountChanges(limit: Self.batchSize) == Self.batchSize
        }
    }

    package func run() async throws { try await chore.run() }
}
