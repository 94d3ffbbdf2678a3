public import Foundation
public import Postgres

/// `mercato audit`'s engine: reads the services' databases and the provider's books
/// (``AuditSnapshotReader``), asks the broker what is still queued, and answers whether the
/// books balance (``AuditChecks``). Read-only, and safe against a running system.
public struct Auditor: Sendable {
    private let reader: AuditSnapshotReader
    private let queues: (any QueueDepthSource)?

    /// Creates the auditor over each service's database (without `catalog`, the stock is not
    /// audited); `queues` tells what is in flight in the broker (without it nothing counts as
    /// quiet, so no discrepancy that could still settle is ever called one).
    public init(
        orders: PostgresClient, customers: PostgresClient, invoices: PostgresClient, catalog: PostgresClient?,
        queues: (any QueueDepthSource)?
    ) {
        reader = AuditSnapshotReader(orders: orders, customers: customers, invoices: invoices, catalog: catalog)
        self.queues = queues
    }

    /// Audits, and confirms what may still settle: a discrepancy of that kind (a count not
    /// made yet, say) found while the system looked quiet is called one only if a second
    /// audit `confirmation` later finds it again. The broker's queue figures lag by up to its
    /// statistics interval (5 s), so one quiet reading does not prove that nothing was on its
    /// way. `accepted` are orders a client saw accepted, to be found stored.
    public func audit(accepted: Set<UUID>? = nil, confirmingAfter confirmation: Duration = .seconds(6)) async throws
        -> AuditReport
    {
        let start = ContinuousClock.now
        var report = try await auditOnce(accepted: accepted)
        let settling = report.discrepancies.filter(\.code.mayStillSettle)
        if !settling.isEmpty, confirmation > .zero {
            try await Task.sleep(for: confirmation)
            // The same discrepancy (kind and ids; its figures may move on meanwhile).
            let again = Set(try await auditOnce(accepted: accepted).discrepancies.map(\.identity))
            report.discrepancies.removeAll { $0.code.mayStillSettle && !again.contains($0.identity) }
            report.unsettled += settling.filter { !again.contains($0.identity) }
        }
        report.duration = ContinuousClock.now - start
        return report
    }

    /// Audits until the books balance with nothing unsettled and nothing in flight, or
    /// `timeout` passes, and returns the last audit: for the end of a load or fault run, when
    /// traffic has stopped and the system catches up.
    public func audit(accepted: Set<UUID>? = nil, settlingWithin timeout: Duration) async throws -> AuditReport {
        let deadline = ContinuousClock.now + timeout
        let start = ContinuousClock.now
        while true {
            var report = try await auditOnce(accepted: accepted)
            if (report.isClean && report.inFlight.isDrained) || ContinuousClock.now >= deadline {
                report.duration = ContinuousClock.now - start
                return report
            }
            try await Task.sleep(for: .milliseconds(250))
        }
    }

    /// One snapshot, judged.
    func auditOnce(accepted: Set<UUID>?) async throws -> AuditReport {
        let start = ContinuousClock.now
        // Asked before and after the snapshots: what was queued at either time was in flight.
        let before = try await queueDepths()
        let snapshot = try await reader.read()
        let after = try await queueDepths()
        var inFlight = InFlight()
        inFlight.unsentOutbox = snapshot.unsentOutbox
        inFlight.pendingPayments = snapshot.payments.filter { $0.status == "pending" }.count
        inFlight.refundsDue = snapshot.payments.filter { $0.status == "captured" && $0.refundDue != nil }.count
        inFlight.unnumberedChanges = snapshot.ordersWithQueuedChanges.count
        var deadLetters: [String: Int] = [:]
        if let before, let after {
            var queued: [String: Int] = [:]
            for (queue, count) in before.merging(after, uniquingKeysWith: max) where count > 0 {
                if queue.hasSuffix(".dlq") { deadLetters[queue] = count } else { queued[queue] = count }
            }
            inFlight.queuedMessages = queued
        } else {
            inFlight.queuedMessages = nil
        }
        var report = AuditChecks.run(snapshot, accepted: accepted, inFlight: inFlight)
        report.deadLetters = deadLetters
        report.duration = ContinuousClock.now - start
        return report
    }

    private func queueDepths() async throws -> [String: Int]? {
        guard let queues else { return nil }
        return try await queues.depths()
    }
}
