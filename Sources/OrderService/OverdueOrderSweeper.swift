import Foundation
public import Logging
public import ServiceKit
public import ServiceLifecycle

/// Cancels orders whose invoice is still unpaid at its due date (`PAYMENT_DUE_SECONDS` after
/// issue, set by invoice-service): every `interval`, in batches, until graceful shutdown.
/// Several replicas sweep at once without coordinating: each order is locked by one of them
/// (`FOR UPDATE SKIP LOCKED`) and cancelled through ``OrderLifecycle``.
public struct OverdueOrderSweeper: Service {
    /// Orders one transaction cancels.
    static let batchSize = 100

    private let chore: PeriodicChore

    /// Creates the sweeper; it starts once the database is migrated.
    public init(repository: any OrderRepository, readiness: Readiness, interval: Duration, logger: Logger) {
        chore = PeriodicChore("sweeping overdue orders", readiness: readiness, interval: interval, logger: logger) {
            let cancelled = try await repository.cancelOverdue(dueBefore: Date(), limit: Self.batchSize)
            if cancelled > 0 { logger.info("cancelled overdue orders", metadata: ["order.count": "\(cancelled)"]) }
            return cancelled == Self.batchSize
        }
    }

    public func run() async throws { try await chore.run() }
}
