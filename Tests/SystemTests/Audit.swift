import Audit
import Broker
import Contracts
import Foundation

/// The system tests audit with the same auditor as `mercato audit`: every order a client saw
/// accepted stored once, invoiced once unless cancelled first, counted once unless cancelled,
/// in one state that every service agrees on, with the money where the states say it is and
/// every order's changes numbered in the order they happened.
extension MercatoSystem {
    /// The auditor over this system's databases, asking its broker what is still queued.
    var auditor: Auditor {
        Auditor(
            orders: database(.order), customers: database(.customer), invoices: database(.invoice),
            catalog: database(.catalog), queues: BrokerQueueDepths(broker: broker))
    }

    /// Audits until the system has caught up (nothing unsettled, nothing wrong) or `timeout`
    /// passes, and returns the last audit: at the end of a test, when traffic has stopped.
    func drain(accepted: Set<UUID>, timeout: Duration = .seconds(120)) async throws -> AuditReport {
        try await auditor.audit(accepted: accepted, settlingWithin: timeout)
    }
}

/// What Mercato's queues hold, asked of the broker itself (a passive declare: messages ready
/// now, not the management API's figures, which lag by seconds).
struct BrokerQueueDepths: QueueDepthSource {
    let broker: RabbitMQBroker

    func depths() async throws -> [String: Int] {
        var depths: [String: Int] = [:]
        for queue in Topology.mercato().queues.map(\.name) {
            depths[queue] = try await broker.inspect(queue: queue).messageCount
        }
        return depths
    }
}

extension AuditReport {
    /// Settled and correct: nothing lost, doubled, inconsistent, unsettled or stuck.
    var clean: Bool { isClean && inFlight.isDrained }
    /// Orders lost somewhere they must be (the fault report's column).
    var lost: Int { count(.lost) }
    /// Orders counted, invoiced or numbered twice.
    var doubled: Int { count(.doubled) }
    /// Orders the services or the money disagree on.
    var inconsistent: Int { count(.inconsistent) }
    /// Stock promised or sold beyond what there was, or unaccounted for.
    var oversold: Int { count(.oversold) }
    /// Refunds owed and not made.
    var unrefunded: Int { inFlight.refundsDue }
}
