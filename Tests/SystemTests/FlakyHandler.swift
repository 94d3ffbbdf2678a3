import Contracts
import Locking
import ServiceKit

/// Applies `order.created`, failing some events the first time they are applied on their
/// own (so they can only succeed after a retry through a delay queue), and calling others
/// poison (dead-lettered) until told otherwise.
final class FlakyHandler: EventHandler {
    /// The ids applied, in order.
    let applied = Locked<[String]>([])
    /// The ids of events that fail their first attempt on their own.
    let failingOnce: Set<String>
    /// The ids of events that are poison, for now.
    let poison: Locked<Set<String>>
    private let failedAlone = Locked<Set<String>>([])

    init(failingOnce: Set<String>, poison: Set<String>) {
        self.failingOnce = failingOnce
        self.poison = Locked(poison)
    }

    var accepts: [AcceptedEvent] { [AcceptedEvent(OrderCreated.self)] }

    func apply(_ events: [IncomingEvent]) async throws {
        for event in events {
            if poison.withLock({ $0.contains(event.id) }) { throw PoisonMessage("poisoned \(event.id)") }
            // In a batch it fails too, so that the consumer tries it on its own.
            if failingOnce.contains(event.id), !failedAlone.withLock({ $0.contains(event.id) }) {
                if events.count == 1 { failedAlone.withLock { _ = $0.insert(event.id) } }
                throw Failure()
            }
        }
        applied.withLock { $0 += events.map(\.id) }
    }

    /// A failure that is not poison: the event is retried.
    struct Failure: Error {}
}
