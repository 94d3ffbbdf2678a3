import Foundation
import Synchronization

/// An outbox in memory, for unit tests of services whose repositories are in memory too.
public final class MemoryOutboxStore: OutboxStore {
    private struct State {
        var pending: [OutboxMessage] = []
        var published: [OutboxMessage] = []
        var listeners: [AsyncStream<Void>.Continuation] = []
        var claimed = false
    }

    private let state = Mutex(State())

    /// Creates an empty outbox.
    public init() {}

    /// Adds messages (what a repository does in its "transaction").
    public func append(_ messages: [OutboxMessage]) {
        let listeners = state.withLock { state in
            state.pending += messages
            return state.listeners
        }
        for listener in listeners { listener.yield() }
    }

    /// Messages waiting to be published.
    public var pending: [OutboxMessage] { state.withLock { $0.pending } }

    /// Messages published so far.
    public var published: [OutboxMessage] { state.withLock { $0.published } }

    public func relay(limit: Int, publish: @Sendable ([OutboxMessage]) async -> PublishOutcome) async throws -> Int {
        // One relay at a time, like the row locks of the real store.
        let batch = state.withLock { state -> [OutboxMessage] in
            guard !state.claimed else { return [] }
            state.claimed = true
            return Array(state.pending.prefix(limit))
        }
        guard !batch.isEmpty else {
            state.withLock { $0.claimed = false }
            return 0
        }
        let outcome = await publish(batch)
        state.withLock { state in
            let confirmed = Set(outcome.confirmed)
            state.published += state.pending.filter { confirmed.contains($0.id) }
            state.pending.removeAll { confirmed.contains($0.id) }
            state.claimed = false
        }
        return batch.count
    }

    public func backlog() async throws -> (count: Int, oldestAgeSeconds: Double) {
        state.withLock { state in
            (state.pending.count, state.pending.first.map { Date().timeIntervalSince($0.createdAt) } ?? 0)
        }
    }

    public func changes() -> any AsyncSequence<Void, Never> & Sendable {
        let (stream, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        state.withLock { $0.listeners.append(continuation) }
        continuation.yield()
        return stream
    }
}
