import Foundation
package import Logging
package import ServiceKit
import ServiceLifecycle

/// Closes invoices still unpaid at their due date as overdue (`invoice.overdue`, on which
/// order-service cancels the order): every `interval`, in batches, until graceful shutdown.
///
/// Lateness is decided here, not by order-service, because only invoice-service knows whether
/// an invoice is paid: under the lock payments take, never while a payment is in flight, so an
/// invoice paid in time is never cancelled for lateness whatever else was down. Several
/// replicas sweep at once without coordinating (`FOR UPDATE SKIP LOCKED`).
package struct InvoiceOverdueSweeper: Service {
    /// Invoices one transaction closes.
    static let batchSize = 100

    private let chore: PeriodicChore

    /// Creates the sweeper; it starts once the database is migrated.
    package init(invoices: any InvoiceStore, readiness: Readiness, interval: Duration, logger: Logger) {
        chore = PeriodicChore("closing overdue invoices", readiness: readiness, interval: interval, logger: logger) {
            let closed = try await invoices.closeOverdue(at: Date(), limit: Self.batchSize)
            if closed > 0 { logger.info("closed overdue invoices", metadata: ["invoice.count": "\(closed)"]) }
            return closed == Self.batchSize
        }
    }

    package func run() async throws { try await chore.run() }
}
