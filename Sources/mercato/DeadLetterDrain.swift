import Broker
import Contracts
import Foundation

/// Takes what a dead-letter queue holds, message by message, for `mercato dlq replay` and
/// `purge`.
///
/// It asks the broker first how many messages the queue holds (a passive declare) and reads
/// until it has seen that many: a queue is empty when the broker says so, never after a
/// silence. (It used to stop after 1.5 s without a delivery; the consumer's connection, its
/// topology and its first delivery took longer than that on a busy machine, and a replay
/// printed "replayed 0 message(s)" over a full queue, exiting 0.) Messages dead-lettered
/// after the count are left for the next run.
struct DeadLetterDrain {
    /// What a drain did.
    struct Outcome {
        /// Messages the action ran on and that were acknowledged.
        var handled = 0
        /// Messages the queue held when the drain began.
        var held = 0
        /// Messages seen (handled, refused, or not selected and left in the queue).
        var seen = 0
        /// Messages the action refused, with why: left in the queue.
        var refused: [DeadLetterReplay.Refusal] = []
    }

    /// What the action did with one message.
    enum Disposition {
        /// Done with it: it is acknowledged, so it leaves the queue.
        case handled
        /// Not done, for a reason: it stays in the queue.
        case refused(DeadLetterReplay.Refusal)
    }

    /// The dead-letter queue.
    let queue: String
    let broker: RabbitMQBroker
    /// How long to wait for the messages the queue holds to arrive.
    let timeout: Duration

    /// Runs `action` on each message `select` accepts and acknowledges it unless the action
    /// refused it; the refused and the unselected go back to the queue untouched when the
    /// drain ends. Throws when the messages counted did not all arrive within ``timeout``,
    /// after handling those that did.
    func run(
        select: (Delivery) -> Bool, action: (Delivery) async throws -> Disposition
    ) async throws -> Outcome {
        var outcome = Outcome()
        outcome.held = try await broker.inspect(queue: queue).messageCount
        guard outcome.held > 0 else { return outcome }
        // Unselected and refused messages stay unacknowledged until the end, so the window
        // must hold them all.
        let consumer = try await broker.consume(queue: queue, prefetch: min(outcome.held, Int(UInt16.max)))
        let deadline = ContinuousClock.now + timeout
        do {
            while outcome.seen < outcome.held {
                let batch = await Self.next(from: consumer, until: deadline)
                if batch.isEmpty { break }
                outcome.seen += batch.count
                for delivery in batch where select(delivery) {
                    switch try await action(delivery) {
                    case .handled:
                        try await delivery.ack()
                        outcome.handled += 1
                    case .refused(let refusal):
                        // Unacknowledged, like the unselected: back in the queue at the end,
                        // and not delivered again meanwhile to be counted twice.
                        outcome.refused.append(refusal)
                    }
                }
            }
        } catch {
            await consumer.cancel()
            throw error
        }
        await consumer.cancel()
        if outcome.seen < outcome.held {
            throw ValidationFailure(
                "\(queue) held \(outcome.held) message(s) but only \(outcome.seen) arrived within \(timeout); \(outcome.handled) handled, the rest left in the queue: run the command again"
            )
        }
        return outcome
    }

    /// The next deliveries, or none once `deadline` has passed.
    private static func next(from consumer: BrokerConsumer, until deadline: ContinuousClock.Instant) async -> [Delivery]
    {
        await withTaskGroup(of: [Delivery].self) { group in
            group.addTask { await consumer.next(max: 100) }
            group.addTask {
                try? await Task.sleep(until: deadline)
                return []
            }
            let first = await group.next() ?? []
            group.cancelAll()
            return first
        }
    }
}
