import Synchronization

/// The hand-off between a connection, which pushes deliveries, and the one task iterating a
/// ``BrokerConsumer``.
///
/// Unlike an `AsyncStream` it can hand over everything already received at once (for batch
/// consumers) and drop deliveries of a connection that no longer exists: those can no longer
/// be acknowledged and the broker delivers them again anyway.
final class DeliveryBuffer: Sendable {
    private struct State {
        var deliveries: [Delivery] = []
        var head = 0
        var waiter: CheckedContinuation<Void, Never>?
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
    }

    private let state = Mutex(State())

    /// How many deliveries wait to be read.
    var count: Int {
        state.withLock { $0.deliveries.count - $0.head }
    }

    /// Adds a delivery and wakes the waiting reader.
    func push(_ delivery: Delivery) {
        push(contentsOf: CollectionOfOne(delivery))
    }

    /// Adds deliveries and wakes the waiting reader once: a connection hands over all it read
    /// from the socket in one go, so a fast stream costs one wake-up per read, not one
    /// thread switch per message.
    func push(contentsOf deliveries: some Collection<Delivery>) {
        guard !deliveries.isEmpty else { return }
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard !state.finished else { return nil }
            state.deliveries.append(contentsOf: deliveries)
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    /// Drops buffered deliveries that came over an older connection than `generation`.
    func dropDeliveries(before generation: UInt64) {
        state.withLock { state in
            let kept = state.deliveries[state.head...].filter { $0.generation >= generation }
            state.deliveries = Array(kept)
            state.head = 0
        }
    }

    /// Ends the sequence: the reader gets what is buffered, then `nil`.
    func finish() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.finished = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    /// Waits for at least one delivery and returns up to `max` of those buffered; empty once
    /// finished (or when the calling task is cancelled).
    func next(max: Int) async -> [Delivery] {
        while true {
            let (taken, finished) = state.withLock { state in
                (state.take(max: max), state.finished)
            }
            if !taken.isEmpty || finished || Task.isCancelled { return taken }
            await withTaskCancellationHandler {
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    let resumeNow = state.withLock { state -> Bool in
                        if !state.isEmpty || state.finished { return true }
                        precondition(state.waiter == nil, "a BrokerConsumer has one reader at a time")
                        state.waiter = continuation
                        return false
                    }
                    if resumeNow { continuation.resume() }
                }
            } onCancel: {
                let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
                    defer { state.waiter = nil }
                    return state.waiter
                }
                waiter?.resume()
            }
        }
    }
}
