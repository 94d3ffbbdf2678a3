import Contracts
import Foundation
public import Logging
public import ServiceKit
public import ServiceLifecycle

/// Cancels orders whose invoice is still unpaid at its due date (`PAYMENT_DUE_SECONDS` after
/// issue, set by invoice-service): every `interval`, in batches, until graceful shutdown.
/// Several replicas sweep at once without coordinating: each order is locked by one of them
/// (`FOR UPDATE SKIP LOCKED`) and cancelled through ``OrderLifecycle``.
public struct OverdueOrderSweeper: Service {
    private let repository: any OrderRepository
    private let readiness: Readiness
    private let interval: Duration
    private let logger: Logger

    /// Creates the sweeper; it starts once the database is migrated.
    public init(repository: any OrderRepository, readiness: Readiness, interval: Duration, logger: Logger) {
        self.repository = repository
        self.readiness = readiness
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await readiness.wait(for: [Readiness.database])
            while !Task.isCancelled {
                do {
                    var cancelled = 0
                    // A backlog (the service was down past many due dates) drains batch by batch.
                    while !Task.isCancelled {
                        let batch = try await repository.cancelOverdue(dueBefore: Date(), limit: 100)
                        cancelled += batch
                        if batch < 100 { break }
                    }
                    if cancelled > 0 { logger.info("cancelled overdue orders", metadata: ["order.count": "\(cancelled)"]) }
                } catch {
                    logger.warning("sweeping overdue orders failed; retrying", metadata: ["error.message": "\(error)"])
                }
                try? await Task.sleep(for: interval)
            }
        }
    }
}
