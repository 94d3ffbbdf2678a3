import Broker
import ContractTesting
import Foundation
import Locking
import MercatoTesting
import Testing

/// Kills RabbitMQ under a running publisher and consumer. Runs in scripts/test's second
/// phase, alone, because it takes the shared broker down.
@Suite(.needsRabbitMQ, .serialized, .timeLimit(.minutes(5)))
struct BrokerFaultTests {
    @Test func publisherAndConsumerSurviveABrokerKill() async throws {
        let publisherBroker = try Integration.makeBroker("fault-publisher")
        let consumerBroker = try Integration.makeBroker("fault-consumer")
        try await publisherBroker.withRunning {
            try await consumerBroker.withRunning {
                try await publishAndConsumeThroughAKill(publisherBroker, consumerBroker)
            }
        }
    }

    private func publishAndConsumeThroughAKill(_ publisherBroker: RabbitMQBroker, _ consumerBroker: RabbitMQBroker)
        async throws
    {
        let queue = uniqueName("fault")
        try await publisherBroker.declare(Topology(queues: [.init(name: queue)]))
        try await consumerBroker.declare(Topology(queues: [.init(name: queue)]))

        let confirmed = Locked<Set<String>>([])
        let received = Locked<Set<String>>([])
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
                        try await Task.sleep(for: .milliseconds(200))
                    }
                }
                try await Task.sleep(for: .milliseconds(20))
            }
        }

        // Let traffic flow, then kill the node (SIGKILL, no goodbye) and bring it back.
        try await waitUntil("1,000 confirmed messages", timeout: .seconds(60)) {
            confirmed.withLock { $0.count } >= 1000
        }
        try await Integration.infra("rabbitmq", "kill")
        try await Task.sleep(for: .seconds(2))
        try await Integration.infra("rabbitmq", "start")

        try await withDeadline(.seconds(150), "every batch to be confirmed") { try await publishing.value }
        try? await waitUntil("every confirmed message to be delivered", timeout: .seconds(60)) {
            confirmed.withLock { $0 }.isSubset(of: received.withLock { $0 })
        }
        let lost = confirmed.withLock { $0 }.subtracting(received.withLock { $0 })
        #expect(confirmed.withLock { $0.count } == batches * 10)
        #expect(lost.isEmpty, "confirmed but never delivered: \(lost.count), e.g. \(lost.prefix(5))")
        try await waitUntil("both brokers to be ready") { publisherBroker.isReady && consumerBroker.isReady }

        await consumer.cancel()
        _ = await consuming.result
    }
}
