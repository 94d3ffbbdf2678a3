/// Applies the events of one queue to a service's state.
public protocol EventHandler: Sendable {
    /// The event types, and versions of each, this handler applies; anything else on its
    /// queue is dead-lettered.
    var accepts: [AcceptedEvent] { get }

    /// Applies `events` atomically (all or nothing), each at most once per event id:
    /// an id seen before, even within the same call, changes nothing.
    ///
    /// Throw ``PoisonMessage`` for an event that can never be applied; any other error means
    /// "not now" and the consumer retries (splitting a batch to find the culprit).
    func apply(_ events: [IncomingEvent]) async throws
}
