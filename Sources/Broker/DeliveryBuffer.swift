import Locking

/// The hand-off between a connection, which pushes deliveries, and the tasks iterating a
/// ``BrokerConsumer``.
///
/// Unlike an `AsyncStream` it can hand over everything already received at once (for batch
/// consumers), drop deliveries of a connection that no longer exists (those can no longer be
/// acknowledged and the broker delivers them again anyway), and serve several readers: each
/// delivery goes to exactly one of them.
package final class DeliveryBuffer: Sendable {
    private struct State {
        var deliveries: [Delivery] = []
        var head = 0
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
        var nextWaiter: UInt64 = 0
        var finished = false

        var isEmpty: Bool { head == deliveries.count }

        mutating func take(max: Int) -> [Delivery] {
            let end = min(deliveries.count, head + max)
            let taken = Array(deliveries[head..<end])
            head = end
            if head == deliveries.count {
                deliveries.removeAll(keepingCapacity: true)
                head = 0
            }
            return taken
        }

        /// Every waiting reader, removed: each looks at the buffer again when it wakes.
        mutating func takeWaiters() -> [CheckedContinuation<Void, Never>] {
            defer { waiters.removeAll() }
            return Array(waiters.values)
        }
    }

    private let state = Locked(State())

    /// An empty buffer.
    package init() {}

    /// How many deliveries wait to be read.
    package var count: Int {
        state.withLock { $0.deliveries.count - $0.head }
    }

    /// How many readers wait for a delivery (tests).
    package var waiting: Int {
        state.withLock { $0.waiters.count }
    }

    /// Adds a delivery and wakes the waiting readers.
    package func push(_ delivery: Delivery) {
        push(contentsOf: CollectionOfOne(delivery))
    }

    /// Adds deliveries and wakes the waiting readers once: a connection hands over all it read
    /// from the socket in one go, so a fast stream costs one wake-up per read, not one
    /// thread switch per message.
    package func push(contentsOf deliveries: some Collection<Delivery>) {
        guard !deliveries.isEmpty else { return }
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            guard !state.finished else { return [] }
            state.deliveries.append(contentsOf: deliveries)
            return state.takeWaiters()
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Drops buffered deliveries that came over an older connection than `generation`.
    package func dropDeliveries(before generation: UInt64) {
        state.withLock { state in
            let kept = state.deliveries[state.head...].filter { $0.generation >= generation }
            state.deliveries = Array(kept)
            state.head = 0
        }
    }

    /// Ends the sequence: readers get what is buffered, then nothing.
    package func finish() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.finished = true
            return state.takeWaiters()
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Waits for at least one delivery and returns up to `max` of those buffered; empty once
    /// finished (or when the calling task is cancelled).
    package func next(max: Int) async -> [Delivery] {
        while true {
            let (taken, finished) = state.withLock { state in
                (state.take(max: max), state.finished)
            }
            if !taken.isEmpty || finished || Task.isCancelled { return taken }
            let id = state.withLock { state in
                state.nextWaiter += 1
                return state.nextWaiter
            }
            await withTaskCancellationHandler {
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    let resumeNow = state.withLock { state -> Bool in
                        if !state.isEmpty || state.finished || Task.isCancelled { return true }
                        state.waiters[id] = continuation
                        return false
                    }
                    if resumeNow { continuation.resume() }
                }
            } onCancel: {
                let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
                waiter?.resume()
            }
        }
    }
}
