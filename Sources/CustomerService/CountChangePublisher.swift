public import Logging
public import ServiceKit
public import ServiceLifecycle

/// Announces `orders_count` changes: every ``interval`` it queues one `customer.updated` per
/// customer whose count moved (``CustomerRepository/publishCountChanges(limit:)``), so a
/// customer who orders a hundred times a second costs one event a second, not a hundred.
/// Several replicas publish side by side without coordinating (`SKIP LOCKED`); a change left
/// at shutdown is announced by the next start.
public struct CountChangePublisher: Service {
    /// How many customers one transaction announces.
    static let batchSize = 500

    private let repository: any CustomerRepository
    private let readiness: Readiness
    private let interval: Duration
    private let logger: Logger

    /// Creates the publisher; it starts once the database is migrated.
    public init(repository: any CustomerRepository, readiness: Readiness, interval: Duration, logger: Logger) {
        self.repository = repository
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
                    while !Task.isCancelled, try await repository.publishCountChanges(limit: Self.batchSize) == Self.batchSize {}
                    failures = 0
                } catch {
                    failures += 1
                    // Once per outage, then about once a minute: not once per interval.
                    if failures % 60 == 1 {
                        logger.warning(
                            "announcing orders_count changes failed; retrying", metadata: ["error.message": "\(error)", "failures": "\(failures)"])
                    }
                }
                try? await Task.sleep(for: interval)
            }
        }
    }
}
