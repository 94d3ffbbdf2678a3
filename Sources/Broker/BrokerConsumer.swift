/// The deliveries of one queue, as an `AsyncSequence`. Several tasks may read it at once;
/// each delivery goes to exactly one of them.
///
/// The sequence ends after ``cancel()`` or the broker's shutdown. It survives reconnections:
/// after one, the broker redelivers what was unacknowledged and the sequence goes on.
public final class BrokerConsumer: AsyncSequence, Sendable {
    public typealias Element = Delivery

    /// The queue consumed.
    public let queue: String
    package let buffer: DeliveryBuffer
    private let onCancel: @Sendable () async -> Void

    package init(queue: String, buffer: DeliveryBuffer, onCancel: @escaping @Sendable () async -> Void) {
        self.queue = queue
        self.buffer = buffer
        self.onCancel = onCancel
    }

    /// Waits for deliveries and returns those that have arrived, at most `max`; empty when
    /// the sequence has ended. Batch consumers use this to settle many messages with one
    /// transaction and one `multiple` acknowledgement.
    public func next(max: Int) async -> [Delivery] {
        await buffer.next(max: max)
    }

    /// Stops consuming. Deliveries not yet acknowledged go back to the queue.
    public func cancel() async {
        await onCancel()
        buffer.finish()
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(buffer: buffer)
    }

    /// Iterates deliveries one at a time.
    public struct AsyncIterator: AsyncIteratorProtocol {
        package let buffer: DeliveryBuffer

        public mutating func next() async -> Delivery? {
            await buffer.next(max: 1).first
        }
    }
}
