public import Contracts

/// An event type a handler applies, and the versions of its payload it understands. Any
/// other type, or another version of this one, is dead-lettered by the consumer before the
/// handler sees it, so a producer that moves ahead cannot be misread.
public struct AcceptedEvent: Hashable, Sendable {
    /// The event type, e.g. `order.created`.
    public var type: String
    /// The `dataversion`s understood; an envelope without one is version "1".
    public var dataVersions: Set<String>

    /// Accepts `type` at `dataVersions`.
    public init(type: String, dataVersions: Set<String>) {
        self.type = type
        self.dataVersions = dataVersions
    }

    /// Accepts `Payload`'s event type at the version the handler was compiled with.
    public init<Payload: EventPayload>(_ payload: Payload.Type) {
        self.init(type: Payload.eventType.name, dataVersions: [Payload.dataVersion])
    }
}

extension Collection<AcceptedEvent> {
    /// The versions accepted of each type.
    var versionsByType: [String: Set<String>] {
        reduce(into: [:]) { $0[$1.type, default: []].formUnion($1.dataVersions) }
    }
}
