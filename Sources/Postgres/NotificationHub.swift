import Locking
import Synchronization

/// How a client's notifications reach listeners: its own listeners in this process at once
/// after the commit, other processes through `NOTIFY`, throttled.
///
/// Every `NOTIFY` takes a cluster-wide lock while its transaction commits, so notifying on
/// every write serializes the commits of every service on the server. Measured here with the
/// outbox (one notification per order): 510 orders/s with `NOTIFY` on each transaction,
/// 1,030 without. Listeners of the same client — the outbox relay beside the code that
/// writes the outbox — need no round trip through the server at all; other processes (other
/// replicas) are woken by at most one `NOTIFY` per channel per ``remoteInterval``.
final class NotificationHub: Sendable {
    private struct Listener {
        let channels: Set<String>
        let continuation: AsyncStream<PostgresNotification>.Continuation
    }

    private let listeners = Locked<[UInt64: Listener]>([:])
    private let nextID = Atomic<UInt64>(0)
    private let lastRemote = Locked<[String: ContinuousClock.Instant]>([:])
    /// The least time between two `NOTIFY`s of one channel from this client.
    let remoteInterval: Duration

    init(remoteInterval: Duration) {
        self.remoteInterval = remoteInterval
    }

    /// Adds a listener; returns its id for ``remove(_:)``.
    func add(channels: [String], continuation: AsyncStream<PostgresNotification>.Continuation) -> UInt64 {
        let id = nextID.add(1, ordering: .relaxed).newValue
        listeners.withLock { $0[id] = Listener(channels: Set(channels), continuation: continuation) }
        return id
    }

    func remove(_ id: UInt64) {
        _ = listeners.withLock { $0.removeValue(forKey: id) }
    }

    /// Delivers `channel` to this client's listeners of it.
    func deliverLocally(_ channel: String) {
        let targets = listeners.withLock { $0.values.filter { $0.channels.contains(channel) }.map(\.continuation) }
        for continuation in targets {
            continuation.yield(PostgresNotification(channel: channel, payload: "", processID: 0))
        }
    }

    /// Whether a `NOTIFY` on `channel` is due: none was delivered within ``remoteInterval``.
    /// Concurrent transactions may both find it due; throttling is a cost bound, not a rule.
    func isRemoteNotificationDue(_ channel: String, now: ContinuousClock.Instant = .now) -> Bool {
        lastRemote.withLock { last in last[channel].map { $0 + remoteInterval <= now } ?? true }
    }

    /// Records that a `NOTIFY` on `channel` was delivered (its transaction committed); one
    /// rolled back was never delivered and does not count.
    func remoteNotificationDelivered(_ channel: String, now: ContinuousClock.Instant = .now) {
        lastRemote.withLock { $0[channel] = now }
    }
}
