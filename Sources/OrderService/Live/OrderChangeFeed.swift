import Foundation
import Locking
package import Logging
package import Postgres
package import ServiceKit
import ServiceLifecycle

/// This replica's view of every order's changes: it tails `order_changes` and keeps the
/// latest ``Configuration/window`` changes in memory, from which every open stream reads.
///
/// The changes come from the database, not from what this replica wrote, so every replica's
/// streams show every change. The feed is woken at once by this replica's own writes and by
/// the other replicas' (throttled) `NOTIFY`s, and polls as the safety net. Streams read by
/// sequence number (``read(after:limit:)``): a stream whose position is older than the window
/// reads the database instead, so memory stays bounded however far behind a client is.
package final class OrderChangeFeed: Service, Sendable {
    /// The notification channel of new changes.
    package static let channel = "order_changes"

    /// How the feed reads and how much it keeps.
    package struct Configuration: Sendable {
        /// `ORDER_STREAM_WINDOW`: how many of the latest changes are kept in memory. A stream
        /// that falls further behind than this is disconnected and resumes from the database.
        /// Default 5,000: under two seconds at full load, about 2.5 MB.
        package var window = 5_000
        /// How often the database is read when no notification came. Default 500 ms.
        package var pollInterval = Duration.milliseconds(500)
        /// The least time between two reads, however many notifications come: under load
        /// every commit notifies, and a read per commit would cost more than it shows.
        /// Default 100 ms.
        package var minimumInterval = Duration.milliseconds(100)
        /// The most changes read with one query. Default 1,000.
        package var batchSize = 1_000

        /// The defaults.
        package init() {}
    }

    /// What ``read(after:limit:)`` found.
    package enum Read: Sendable {
        /// The changes after the position (at most the limit asked for), all in the window.
        case changes([OrderChange])
        /// Nothing after the position yet.
        case upToDate
        /// The position is older than the window: read the database. `windowStart` is the
        /// first sequence number the window holds (every change before it is committed).
        case behind(windowStart: Int64)
    }

    private struct State {
        /// The last sequence number read, once the feed has started.
        var head: Int64?
        /// The window, oldest first; `changes[offset...]` is current (the prefix awaits compaction).
        var changes: [OrderChange] = []
        var offset = 0
        var subscribers: [UInt64: WakeSignal<ContinuousClock>] = [:]
        var nextSubscriber: UInt64 = 0
    }

    private let changeLog: any OrderChangeLog
    private let listener: PostgresListener?
    private let readiness: Readiness?
    private let configuration: Configuration
    private let logger: Logger
    private let state = Locked(State())
    private let wake = WakeSignal()

    /// The feed's component in ``Readiness``: up once the feed has read where the changes
    /// stand, so a ready replica can serve streams.
    package static let component = "order-changes"

    /// Creates the feed over `changeLog`; `listener` (on ``channel``) wakes it when another
    /// replica writes; with `readiness`, it starts reading once the database is migrated and
    /// the service is not ready before it has.
    package init(
        changeLog: any OrderChangeLog, listener: PostgresListener?, readiness: Readiness? = nil,
        configuration: Configuration = Configuration(),
        logger: Logger
    ) {
        self.changeLog = changeLog
        self.listener = listener
        self.readiness = readiness
        readiness?.require(Self.component)
        self.configuration = configuration
        self.logger = logger
    }

    /// The last sequence number the feed has read, or nil before it could read the database.
    package var head: Int64? { state.withLock { $0.head } }

    /// Tails the changes until graceful shutdown.
    package func run() async throws {
        try await withThrowingDiscardingTaskGroup { group in
            if let listener {
                group.addTask { try await listener.run() }
                group.addTask {
                    for await _ in listener { self.wake.signal() }
                }
            }
            group.addTask {
                await cancelWhenGracefulShutdown { await self.tail() }
            }
        }
    }

    /// Reads new changes whenever woken (or every poll interval) until cancelled.
    private func tail() async {
        await readiness?.wait(for: [Readiness.database])
        var failures = 0
        while !Task.isCancelled {
            let round = ContinuousClock.now
            var settled = true
            do {
                settled = try await catchUp()
                readiness?.markUp(Self.component)
                failures = 0
            } catch {
                failures += 1
                // Logged once per outage (and then every minute or so), not once per poll.
                if failures % 120 == 1 {
                    logger.warning(
                        "reading order changes failed; retrying",
                        metadata: ["error.message": "\(error)", "failures": "\(failures)"])
                }
            }
            // Changes held back by a transaction still running: look again shortly.
            await wake.wait(timeout: settled ? configuration.pollInterval : configuration.minimumInterval)
            try? await Task.sleep(until: round + configuration.minimumInterval)
        }
    }

    /// Numbers what has settled (``OrderChangeLog/settleChanges()``) and, while a stream is
    /// open, reads every change after the head into the window and wakes the streams;
    /// returns whether every change committed before the call was numbered. It starts at the
    /// latest change: the window begins empty, at "now".
    @discardableResult
    package func catchUp() async throws -> Bool {
        let settled = try await changeLog.settleChanges()
        guard let start = head, subscriberCount > 0 else {
            // Nobody watching (or not started): the window is not worth its reads. It starts
            // again, empty, at the latest change; a stream that opens later with an older
            // position reads the database, as any stream behind the window does.
            let latest = try await changeLog.lastChangeSequence()
            state.withLock { state in
                state.head = max(state.head ?? latest, latest)
                state.changes.removeAll(keepingCapacity: true)
                state.offset = 0
            }
            notifySubscribers()
            return settled
        }
        var position = start
        while true {
            let batch = try await changeLog.changes(after: position, customerID: nil, limit: configuration.batchSize)
            guard let last = batch.last else { return settled }
            position = last.sequence
            append(batch)
            if batch.count < configuration.batchSize { return settled }
        }
    }

    private func append(_ batch: [OrderChange]) {
        state.withLock { state in
            // Another catch-up (a test's, or a notification racing the poll) may have read them.
            let fresh = batch.filter { $0.sequence > (state.head ?? .max) }
            guard let last = fresh.last else { return }
            state.changes.append(contentsOf: fresh)
            state.head = last.sequence
            let excess = state.changes.count - state.offset - configuration.window
            if excess > 0 { state.offset += excess }
            // Compact once the dead prefix is as large as the window: amortized O(1) per change.
            if state.offset >= configuration.window {
                state.changes.removeFirst(state.offset)
                state.offset = 0
            }
        }
        notifySubscribers()
    }

    /// Up to `limit` changes after `position`, or why there are none in memory.
    package func read(after position: Int64, limit: Int) -> Read {
        state.withLock { state in
            guard let head = state.head else { return .behind(windowStart: .max) }
            let window = state.changes[state.offset...]
            let windowStart = window.first?.sequence ?? head + 1
            if position < windowStart - 1 { return .behind(windowStart: windowStart) }
            guard position < head else { return .upToDate }
            // The first change after `position`: sequence numbers in the window ascend.
            var low = window.startIndex
            var high = window.endIndex
            while low < high {
                let middle = (low + high) / 2
                if window[middle].sequence <= position { low = middle + 1 } else { high = middle }
            }
            return .changes(Array(window[low..<min(low + limit, window.endIndex)]))
        }
    }

    /// A wake-up for one stream, signalled whenever the feed moves on; ``unsubscribe(_:)``
    /// when the stream ends.
    package func subscribe() -> (id: UInt64, signal: WakeSignal<ContinuousClock>) {
        let signal = WakeSignal()
        let id = state.withLock { state in
            state.nextSubscriber += 1
            state.subscribers[state.nextSubscriber] = signal
            return state.nextSubscriber
        }
        // The feed reads changes only while someone watches: start now.
        wake.signal()
        return (id, signal)
    }

    /// Stops waking a stream.
    package func unsubscribe(_ id: UInt64) {
        _ = state.withLock { $0.subscribers.removeValue(forKey: id) }
    }

    /// How many streams are open on this replica.
    package var subscriberCount: Int { state.withLock { $0.subscribers.count } }

    private func notifySubscribers() {
        for signal in state.withLock({ Array($0.subscribers.values) }) { signal.signal() }
    }
}
