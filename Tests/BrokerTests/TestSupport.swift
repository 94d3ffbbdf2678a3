import Broker
import Contracts
import Foundation
import Logging
import Testing

/// What `scripts/test` exports: the throwaway RabbitMQ it started, and its control script.
enum Integration {
    static let environment = ProcessInfo.processInfo.environment
    static let amqpURL = environment["AMQP_URL"]
    static let infraScript = environment["MERCATO_INFRA"]

    /// A broker on the test RabbitMQ that gives up and retries quickly.
    static func makeBroker(_ name: String = "broker-tests") throws -> RabbitMQBroker {
        var configuration = try RabbitMQBroker.Configuration(url: amqpURL ?? "amqp://127.0.0.1")
        configuration.connectionName = name
        configuration.reconnectMaximumDelay = .seconds(1)
        configuration.publishTimeout = .seconds(90)
        var logger = Logger(label: name)
        logger.logLevel = Integration.environment["TEST_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .notice
        return RabbitMQBroker(configuration: configuration, logger: logger)
    }

    /// Runs `scripts/infra ARGS…` (e.g. `rabbitmq kill`) and waits for it.
    static func infra(_ arguments: String...) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: infraScript ?? "scripts/infra")
        process.arguments = arguments
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw TestFailure("scripts/infra \(arguments.joined(separator: " ")) exited with \(process.terminationStatus)")
        }
    }
}

extension Trait where Self == ConditionTrait {
    /// Runs the test only against the RabbitMQ that `scripts/test` starts.
    static var needsRabbitMQ: Self {
        .enabled(if: Integration.amqpURL != nil, "needs AMQP_URL: run scripts/test")
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A name no other test (or earlier run) uses.
func uniqueName(_ prefix: String) -> String {
    "test.\(prefix).\(UUID().uuidString.prefix(8).lowercased())"
}

/// The next delivery, or a failure after `timeout`.
func nextDelivery(_ consumer: BrokerConsumer, timeout: Duration = .seconds(20)) async throws -> Delivery {
    let deliveries = try await nextDeliveries(consumer, count: 1, timeout: timeout)
    return deliveries[0]
}

/// Exactly `count` deliveries (read in batches), or a failure after `timeout`.
func nextDeliveries(_ consumer: BrokerConsumer, count: Int, timeout: Duration = .seconds(30)) async throws -> [Delivery] {
    try await withThrowingTaskGroup(of: [Delivery]?.self) { group in
        group.addTask {
            var received: [Delivery] = []
            while received.count < count {
                let batch = await consumer.next(max: count - received.count)
                if batch.isEmpty { break }
                received += batch
            }
            return received
        }
        group.addTask {
            try await Task.sleep(for: timeout)
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let received = first, received.count == count else {
            throw TestFailure("expected \(count) deliveries on \(consumer.queue) within \(timeout)")
        }
        return received
    }
}

func message(_ exchange: String, _ routingKey: String, id: String = UUID().uuidString, body: String = "{}") -> OutboundMessage {
    OutboundMessage(
        exchange: exchange, routingKey: routingKey,
        properties: MessageProperties(contentType: "application/json", messageID: id, type: routingKey, appID: "tests"),
        body: Data(body.utf8))
}
