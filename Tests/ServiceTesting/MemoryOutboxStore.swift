package import Foundation
import Locking
package import ServiceKit

/// An outbox in memory, for unit tests of services whose repositories are in memory too. It
/// passes the same contract suite as `PostgresOutboxStore`: one relay at a time, confirmed
/// messages marked sent, refused ones retried after a growing delay, the rest untouched.
package final class MemoryOutboxStore: OutboxStore {
    private struct Entry {
        var message: OutboxMessage
        var attempts = 0
        var nextAttemptAt: Date
        var lastError: String?
    }

    private struct State {
        var pending: [Entry] = []
        var published: [OutboxMessage] = []
        var listeners: [AsyncStream<Void>.Continuation] = []
        var claimed: Set<String> = []
    }

    private let state = Locked(State())
    private let now: @Sendable () -> Date
    private let backoff: OutboxBackoff

    /// Creates an empty outbox whose clock is `now` (tests move it to make refused messages
    /// due again) and whose refused messages wait out `backoff`.
    package init(now: @escaping @Sendable () -> Date = Date.init, backoff: OutboxBackoff = .init()) {
        self.now = now
        self.backoff = backoff
    }

    /// Adds messages (what a repository does in its "transaction").
    package func append(_ messages: [OutboxMessage]) {
        guard !messages.isEmpty else { return }
        let time = now()
        let listeners = state.withLock { state in
            state.pending += messages.map { Entry(message: $0, nextAttemptAt: time) }
            return state.listeners
        }
        for listener in listeners { listener.yield() }
    }

    /// Messages waiting to be published, oldest first.
    package var pending: [OutboxMessage] { state.withLock { $0.pending.map(\.message) } }

    /// Messages published so far, in the order they were confirmed.
    package var published: [OutboxMessage] { state.withLock { $0.published } }

    package func relay(limit: Int, publish: @Sendable ([OutboxMessage]) async -> PublishOutcome) async throws -> Int {
        // Claimed messages are skipped by other relays, like rows locked FOR UPDATE SKIP LOCKED.
        let time = now()
        let batch = state.withLock { state -> [OutboxMessage] in
            let claimed = state.claimed
            let batch = Array(
                state.pending.filter { $0.nextAttemptAt <= time && !claimed.contains($0.message.id) }.prefix(limit).map(
                    \.message))
            state.claimed.formUnion(batch.map(\.id))
            return batch
        }
        guard !batch.isEmpty else { return 0 }
        let outcome = await publish(batch)
        let after = now()
        let backoff = self.backoff
        state.withLock { state in
            let confirmed = Set(outcome.confirmed)
            state.published += state.pending.filter { confirmed.contains($0.message.id) }.map(\.message)
            state.pending.removeAll { confirmed.contains($0.message.id) }
            for index in state.pending.indices {
                guard let reason = outcome.refused[state.pending[index].message.id] else { continue }
                // Refused messages (unroutable, nacked) back off: by default 2, 4, 8 … 300 seconds.
                state.pending[index].attempts += 1
                state.pending[index].lastError = reason
                state.pending[index].nextAttemptAt =
                    after + backoff.seconds(afterRefusals: state.pending[index].attempts)
            }
            state.claimed.subtract(batch.map(\.id))
        }
        return batch.count
    }

    package func backlog() async throws -> (count: Int, oldestAgeSeconds: Double) {
        let time = now()
        return state.withLock { state in
            (state.pending.count, state.pending.map { time.timeIntervalSince($0.message.createdAt) }.max() ?? 0)
        }
    }

    /// Forgets published messages created more than `age` ago (the memory store has no
    /// inbox of its own: its repositories keep theirs).
    package func prune(publishedBefore age: Duration, inboxAge: Duration) async throws {
        let cutoff = now().addingTimeInterval(-Double(age.components.seconds))
        state.withLock { $0.published.removeAll { $0.createdAt < cutoff } }
    }

    package func changes() -> any AsyncSequence<Void, Never> & Sendable {
        let (stream, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        state.withLock { $0.listeners.append(continuation) }
        continuation.yield()
        return stream
    }
}
