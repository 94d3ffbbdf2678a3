import Broker
import Foundation
import Logging
import MercatoTesting

extension Integration {
    /// A broker on the test RabbitMQ that gives up and retries quickly; not yet running.
    static func makeBroker(_ name: String = "broker-tests", configure: (inout RabbitMQBroker.Configuration) -> Void = { _ in }) throws
        -> RabbitMQBroker
    {
        ignoreBrokenPipes()
        var configuration = try RabbitMQBroker.Configuration(url: amqpURL())
        configuration.connectionName = name
        configuration.reconnectMaximumDelay = .seconds(1)
        configuration.publishTimeout = .seconds(90)
        configure(&configuration)
        var logger = Logger(label: name)
        logger.logLevel = environment["TEST_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .notice
        return RabbitMQBroker(configuration: configuration, logger: logger)
    }

    /// Runs `body` with a running broker on the test RabbitMQ, then shuts it down.
    static func withBroker<T>(_ name: String = "broker-tests", _ body: (RabbitMQBroker) async throws -> T) async throws -> T {
        let broker = try makeBroker(name)
        return try await broker.withRunning { try await body(broker) }
    }
}
