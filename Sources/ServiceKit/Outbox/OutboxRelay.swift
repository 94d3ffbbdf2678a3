public import Broker
import CoreMetrics
public import Logging
public import ServiceLifecycle
import Synchronization

/// Publishes the outbox: wakes when a transaction appends to it (and every
/// `pollInterval` as a safety net), publishes batches with publisher confirms, and marks
/// messages sent only after the broker's ack. While the broker is unreachable, messages wait
/// in the outbox; HTTP requests never wait for the broker.
///
/// With ``Configuration/workers`` above one, that many passes run side by side, each claiming
/// its own rows (`SKIP LOCKED`): while one waits for its batch's confirms and commit, another
/// already publishes what was committed meanwhile — a window of batches in flight. Order
/// across batches is not kept (it is not across replicas either); consumers do not rely on
/// it.
public struct OutboxRelay: Service {
    /// How the relay paces itself.
    public struct Configuration: Sendable {
        /// Messages per published batch. Default 500.
        public var batchSize = 500
        /// Longest sleep without a wake-up. Default 2 s.
        public var pollInterval: Duration = .seconds(2)
        /// Wait after a failure to reach the broker or the database. Default 1 s.
        public var retryDelay: Duration = .seconds(1)
        /// Passes over the outbox that run at once, each holding a database connection while
        /// its batch is in flight. Default 1: a second one cut the latency at low rates but
        /// cost sustained throughput in the one A/B this noisy machine allowed (see
        /// benchmarks/README.md), so it is an operator's choice (`OUTBOX_RELAY_WORKERS`).
        public var workers = 1

        /// The defaults.
        public init() {}
    }

    private let store: any OutboxStore
    private let broker: any Broker
    private let readiness: Readiness
    private let configuration: Configuration
    private let logger: Logger
    private let metrics: ServiceMetrics
    private let afterBatch: @Sendable () async -> Void

    /// Creates a relay. `afterBatch` runs after every pass over the outbox (housekeeping).
    public init(
        store: any OutboxStore, broker: any Broker, readiness: Readiness, configuration: Configuration = .init(),
        metrics: ServiceMetrics = ServiceMetrics(), logger: Logger,
        afterBatch: @escaping @Sendable () async -> Void = {}
    ) {
        self.store = store
        self.broker = broker
        self.readiness = readiness
        self.configuration = configuration
        self.metrics = metrics
        self.logger = logger
        self.afterBatch = afterBatch
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await self.readiness.wait(for: [Readiness.database])
            // Each commit wakes one worker: an idle one if there is one (it publishes at
            // once, beside a busy one), else one of the busy ones, which finds its signal
            // pending when its batch is done. Waking every worker would make the extra ones
            // claim nothing, a transaction each (measured: a third less sustained rate).
            let workers = (0..<max(1, configuration.workers)).map { _ in Worker() }
            let changes = store.changes()
            let listening = Task {
                var next = 0
                for await _ in changes {
                    if let idle = workers.first(where: { $0.idle.load(ordering: .acquiring) }) {
                        idle.wake.signal()
                    } else {
                        workers[next % workers.count].wake.signal()
                        next += 1
                    }
                }
            }
            defer { listening.cancel() }
            await withDiscardingTaskGroup { group in
                for worker in workers {
                    group.addTask { await self.work(worker) }
                }
            }
        }
    }

    /// A pass over the outbox: its wake-up, and whether it waits for one.
    private final class Worker: Sendable {
        let wake = WakeSignal()
        let idle = Atomic<Bool>(false)
    }

    /// One worker: drains the outbox, then sleeps until woken, until cancelled.
    private func work(_ worker: Worker) async {
        while !Task.isCancelled {
            let delay = await self.drain()
            await afterBatch()
            if let delay {
                try? await Task.sleep(for: delay)
            } else {
                worker.idle.store(true, ordering: .releasing)
                await worker.wake.wait(timeout: configuration.pollInterval)
                worker.idle.store(false, ordering: .releasing)
            }
        }
    }

    /// Publishes until the outbox has nothing due; returns a delay when it must back off.
    private func drain() async -> Duration? {
        let broker = self.broker
        let logger = self.logger
        let metrics = self.metrics
        while !Task.isCancelled {
            do {
                let brokerUnavailable = BrokerUnavailable()
                let claimed = try await store.relay(limit: configuration.batchSize) { messages in
                    let outcome = await Self.publish(messages, to: broker)
                    Self.countPublished(messages, outcome: outcome, metrics: metrics)
                    if let failure = outcome.transientFailure {
                        brokerUnavailable.flag.store(true, ordering: .relaxed)
                        logger.warning(
                            "outbox batch not confirmed; will retry",
                            metadata: ["error.message": "\(failure)", "outbox.batch": "\(messages.count)"])
                    }
                    for (id, reason) in outcome.refused {
                        logger.error(
                            "broker refused an outbox message; backing off",
                            metadata: ["event.id": "\(id)", "error.message": "\(reason)"])
                    }
                    return outcome
                }
                if brokerUnavailable.flag.load(ordering: .relaxed) { return configuration.retryDelay }
                if claimed < configuration.batchSize { return nil }
            } catch {
                logger.warning("outbox relay failed; will retry", metadata: ["error.message": "\(error)"])
                return configuration.retryDelay
            }
        }
        return nil
    }

    /// Counts the confirmed messages by event type.
    private static func countPublished(_ messages: [OutboxMessage], outcome: PublishOutcome, metrics: ServiceMetrics) {
        guard !outcome.confirmed.isEmpty else { return }
        let confirmed = Set(outcome.confirmed)
        var byType: [String: Int] = [:]
        for message in messages where confirmed.contains(message.id) { byType[message.eventType, default: 0] += 1 }
        for (type, count) in byType { metrics.published(eventType: type).increment(by: count) }
    }

    /// Set by the publish callback when the broker could not be reached.
    private final class BrokerUnavailable: Sendable {
        let flag = Atomic<Bool>(false)
    }

    static func publish(_ messages: [OutboxMessage], to broker: any Broker) async -> PublishOutcome {
        do {
            try await broker.publish(messages.map(\.amqpMessage))
            return PublishOutcome(confirmed: messages.map(\.id))
        } catch let error as BrokerError where error.code == .publishFailed {
            var refused: [String: String] = [:]
            for failure in error.failures { refused[failure.messageID] = "\(failure.code): \(failure.reason)" }
            return PublishOutcome(confirmed: messages.map(\.id).filter { refused[$0] == nil }, refused: refused)
        } catch {
            return PublishOutcome(confirmed: [], transientFailure: "\(error)")
        }
    }
}
