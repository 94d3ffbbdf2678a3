import Broker
import Contracts
import Foundation
import Synchronization
import Testing

/// Kills RabbitMQ under a running publisher and consumer. Runs in scripts/test's second
/// phase, alone, because it takes the shared broker down.
@Suite(.needsRabbitMQ, .serialized)
struct BrokerFaultTests {
    @Test func publisherAndConsumerSurviveABrokerKill() async throws {
        let publisherBroker = try Integration.makeBroker("fault-publisher")
        let consumerBroker = try Integration.makeBroker("fault-consumer")
        let queue = uniqueName("fault")
        try await publisherBroker.declare(Topology(queues: [.init(name: queue)]))
        try await consumerBroker.declare(Topology(queues: [.init(name: queue)]))

        let confirmed = Mutex<Set<String>>([])
        let received = Mutex<Set<String>>([])
        let publishErrors = Atomic<Int>(0)
        let consumer = try await consumerBroker.consume(queue: queue, prefetch: 100)

        let consuming = Task {
            while true {
                let batch = await consumer.next(max: 100)
                if batch.isEmpty { return }
                received.withLock { set in for delivery in batch { set.insert(delivery.properties.messageID ?? "") } }
                // An ack can fail when the connection just went; the broker redelivers then.
                try? await batch.last!.ack(multiple: true)
            }
        }
        let batches = 400
        let publishing = Task {
            for batch in 0..<batches {
                let messages = (0..<10).map { message("", queue, id: "f\(batch)-\($0)") }
                while true {
                    do {
                        try await publisherBroker.publish(messages)
                        confirmed.withLock { set in for m in messages { set.insert(m.properties.messageID!) } }
                        break
                    } catch {
                        publishErrors.add(1, ordering: .relaxed)
                        try await Task.sleep(for: .milliseconds(200))
                    }
                }
                try await Task.sleep(for: .milliseconds(20))
            }
        }

        // Let traffic flow, then kill the node (SIGKILL, no goodbye) and bring it back.
        while confirmed.withLock({ $0.count }) < 1000 { try await Task.sleep(for: .milliseconds(50)) }
        try Integration.infra("rabbitmq", "kill")
        try await Task.sleep(for: .seconds(2))
        try Integration.infra("rabbitmq", "start")

        try await publishing.value
        let deadline = ContinuousClock.now + .seconds(60)
        while !confirmed.withLock({ $0 }).isSubset(of: received.withLock({ $0 })), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
        }
        let lost = confirmed.withLock { $0 }.subtracting(received.withLock { $0 })
        #expect(confirmed.withLock { $0.count } == batches * 10)
        #expect(lost.isEmpty, "confirmed but never delivered: \(lost.count), e.g. \(lost.prefix(5))")
        #expect(await publisherBroker.isReady())
        #expect(await consumerBroker.isReady())

        await consumer.cancel()
        _ = await consuming.result
        await publisherBroker.shutdown()
        await consumerBroker.shutdown()
    }
}
