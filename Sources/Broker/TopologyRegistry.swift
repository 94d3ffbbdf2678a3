import Locking

/// The topologies declared on a broker so far, shared by all its connections so that each
/// declares all of them again after it reconnects.
final class TopologyRegistry: Sendable {
    private let topologies = Locked<[Topology]>([])

    /// Everything declared so far, oldest first.
    var all: [Topology] { topologies.withLock { $0 } }

    /// Remembers `topology` (once).
    func add(_ topology: Topology) {
        topologies.withLock { list in
            if !list.contains(topology) { list.append(topology) }
        }
    }
}
