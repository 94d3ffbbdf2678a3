import Contracts
import Foundation
import Locking
import ServiceKit
import ServiceLifecycle

/// One client's `GET /orders/stream`: what it asked for and the loop that writes it.
///
/// The session pulls by sequence number — from the feed's window while it is there, from the
/// database while it is older — so its memory is one batch whatever the client's speed, and
/// "every change after n" has no gap and no repeat by construction. A client that was reading
/// the window live and fell further behind than the window is disconnected; it reconnects
/// with `Last-Event-ID` and catches up from the database.
struct OrderStreamSession: Sendable {
    /// What the client watches.
    enum View: Sendable, Hashable {
        /// Every change after `after` (from now if nil), one event each: for programs.
        case changes(after: Int64?)
        /// A ``LiveSummary`` every `interval`: for the dashboard, whatever the load.
        case summary(interval: Duration)
    }

    /// Why a session ended.
    enum End: Sendable, Hashable {
        /// The client went away, or the service is shutting down.
        case stopped
        /// The client read slower than changes came and fell out of the window.
        case fellBehind
    }

    /// Timing and sizes.
    struct Configuration: Sendable {
        /// `ORDER_STREAM_HEARTBEAT_SECONDS`: a comment after this long without an event, so
        /// proxies keep an idle stream open. Default 15 s.
        var heartbeat = Duration.seconds(15)
        /// The most changes written at once. Default 256.
        var batchSize = 256
        /// What clients are told to wait before reconnecting. Default 2 s.
        var retryMilliseconds = 2_000
    }

    let feed: OrderChangeFeed
    let changeLog: any OrderChangeLog
    /// Whose orders: every customer's, one customer's (a caller without `mercato:admin`), or
    /// nobody's (a token that names no customer: greetings and heartbeats only).
    let visibility: Visibility
    let view: View
    let configuration: Configuration
    /// Drops the client's connection: a write waiting for a client that stopped reading
    /// fails at once.
    let disconnect: @Sendable () -> Void

    private static let encoder = EventCoding.makeEncoder()

    /// Where a session is, for its watchdog.
    private struct Progress {
        /// The position of the changes being written, while a write waits for a client that
        /// reads live (a client catching up from the database is behind the window by design).
        var writing: Int64?
        var disconnected = false
    }

    /// Writes the stream with `write` until the client goes away (a write throws), the
    /// service shuts down, or the client falls behind.
    ///
    /// A watchdog checks every `watchInterval` whether a write that is still waiting for the
    /// client has fallen out of the feed's window; if so it drops the connection, so a client
    /// that stopped reading costs one buffer until then, and nothing after.
    func run(watchInterval: Duration = .seconds(1), write: (String) async throws -> Void) async throws -> End {
        let (subscription, signal) = feed.subscribe()
        defer { feed.unsubscribe(subscription) }
        let stopping = Locked(false)
        let progress = Locked(Progress())
        func watched(_ position: Int64?, _ text: String) async throws {
            progress.withLock { $0.writing = position }
            defer { progress.withLock { $0.writing = nil } }
            try await write(text)
        }
        do {
            return try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await watch(progress, every: watchInterval) }
                defer { group.cancelAll() }
                return try await withTaskCancellationOrGracefulShutdownHandler {
                    try await watched(
                        nil,
                        ServerSentEvent(
                            comment: "mercato order stream", retryMilliseconds: configuration.retryMilliseconds
                        ).text)
                    switch view {
                    case .changes(let after):
                        return try await streamChanges(after: after, signal: signal, stopping: stopping, write: watched)
                    case .summary(let interval):
                        return try await streamSummary(
                            every: interval, signal: signal, stopping: stopping, write: watched)
                    }
                } onCancelOrGracefulShutdown: {
                    stopping.withLock { $0 = true }
                    signal.signal()
                }
            }
        } catch  where progress.withLock({ $0.disconnected }) {
            return .fellBehind
        }
    }

    /// Drops the connection once a waiting write's position has left the window.
    private func watch(_ progress: Locked<Progress>, every interval: Duration) async throws {
        while true {
            try await Task.sleep(for: interval)
            guard let position = progress.withLock({ $0.writing }), case .behind = feed.read(after: position, limit: 0)
            else { continue }
            progress.withLock { $0.disconnected = true }
            disconnect()
            return
        }
    }

    private func streamChanges(
        after: Int64?, signal: WakeSignal<ContinuousClock>, stopping: Locked<Bool>,
        write: (Int64?, String) async throws -> Void
    ) async throws -> End {
        guard var position = after ?? feed.head else { return .stopped }
        var live = false
        var lastWrite = ContinuousClock.now
        while !stopping.withLock({ $0 }) {
            guard let (changes, next) = try await nextChanges(after: position, live: &live) else { return .fellBehind }
            if !changes.isEmpty {
                try await write(live ? position : nil, changes.map(event).joined())
                lastWrite = .now
            }
            if next != position {
                position = next
                continue
            }
            let idle = configuration.heartbeat - (ContinuousClock.now - lastWrite)
            if idle <= .zero {
                try await write(live ? position : nil, ServerSentEvent(comment: "heartbeat").text)
                lastWrite = .now
            } else {
                await signal.wait(timeout: idle)
            }
        }
        return .stopped
    }

    private func streamSummary(
        every interval: Duration, signal: WakeSignal<ContinuousClock>, stopping: Locked<Bool>,
        write: (Int64?, String) async throws -> Void
    ) async throws -> End {
        let counts = try await visibility.query(empty: OrderStatusCounts(counts: [:], sequence: feed.head ?? 0)) {
            try await changeLog.statusCounts(customerID: $0)
        }
        var summary = LiveSummary(counts: counts)
        var position = counts.sequence
        var live = false
        var due = ContinuousClock.now
        while !stopping.withLock({ $0 }) {
            // Everything up to now goes into this update; a few batches at most, as the
            // summary only reads from the window once it has caught up.
            while true {
                guard let (changes, next) = try await nextChanges(after: position, live: &live) else {
                    return .fellBehind
                }
                guard next != position else { break }
                for change in changes { summary.apply(change) }
                position = next
            }
            let update = summary.update(sequence: position, interval: interval, now: Date())
            try await write(
                live ? position : nil,
                ServerSentEvent(
                    event: "summary", data: String(decoding: try Self.encoder.encode(update), as: UTF8.self)
                ).text)
            due += interval
            let wait = due - .now
            if wait > .zero { await signal.waitUntilStopping(stopping, for: wait) } else { due = .now }
        }
        return .stopped
    }

    /// The visible changes after `position` and the position after them (`position` itself
    /// when there is nothing new), or nil when a live session fell out of the window.
    private func nextChanges(after position: Int64, live: inout Bool) async throws -> ([OrderChange], Int64)? {
        switch feed.read(after: position, limit: configuration.batchSize) {
        case .changes(let changes):
            live = true
            return (changes.filter(isVisible), changes.last?.sequence ?? position)
        case .upToDate:
            live = true
            return ([], position)
        case .behind(let windowStart):
            if live { return nil }
            let changes = try await visibility.query(empty: []) {
                try await changeLog.changes(after: position, customerID: $0, limit: configuration.batchSize)
            }
            guard changes.count < configuration.batchSize else { return (changes, changes.last!.sequence) }
            // Fewer than asked: none of this customer's changes lie between the last one read
            // and the window, all of which had committed before the query ran.
            return (changes, max(changes.last?.sequence ?? position, min(windowStart - 1, feed.head ?? position)))
        }
    }

    private func isVisible(_ change: OrderChange) -> Bool {
        visibility.includes(change.order.customerID)
    }

    /// A change as an event: `id` its sequence number, `event` what happened, `data` the order
    /// as `GET /orders/{id}` shows it at that change.
    private func event(_ change: OrderChange) -> String {
        let data = (try? Self.encoder.encode(OrderResponse(change.order, customer: change.customer))) ?? Data("{}".utf8)
        return ServerSentEvent(
            id: String(change.sequence), event: change.kind.rawValue, data: String(decoding: data, as: UTF8.self)
        ).text
    }
}

extension WakeSignal where C == ContinuousClock {
    /// Waits `duration` unless `stopping` is set (and the signal fired to say so); signals
    /// that only mean "new changes" do not cut it short.
    func waitUntilStopping(_ stopping: Locked<Bool>, for duration: Duration) async {
        let deadline = ContinuousClock.now + duration
        while !stopping.withLock({ $0 }) {
            let left = deadline - .now
            guard left > .zero else { return }
            await wait(timeout: left)
        }
    }
}
