import ArgumentParser
import Broker
import Foundation
import Logging

/// Where the broker is, for commands that use AMQP and the management API.
struct ConnectionOptions: ParsableArguments {
    @Option(
        help: "The broker, amqp://user:password@host:port/vhost (default: $AMQP_URL or the local scripts/run broker).")
    var amqpURL: String = ProcessInfo.processInfo.environment["AMQP_URL"] ?? "amqp://mercato:mercato@127.0.0.1:5672/%2F"

    @Option(
        help:
            "The management API, http://user:password@host:port (default: $RABBITMQ_MANAGEMENT_URL or the local scripts/run broker)."
    )
    var managementURL: String =
        ProcessInfo.processInfo.environment["RABBITMQ_MANAGEMENT_URL"] ?? "http://mercato:mercato@127.0.0.1:15672"

    @Option(
        help: ArgumentHelp(
            "How long to wait for the broker (connecting, or a publish's confirm) before giving up, in seconds (default: $MERCATO_BROKER_TIMEOUT or 10).",
            valueName: "seconds"))
    var brokerTimeout: Int = Int(ProcessInfo.processInfo.environment["MERCATO_BROKER_TIMEOUT"] ?? "") ?? 10

    /// The virtual host named in the AMQP URL.
    var virtualHost: String {
        (try? RabbitMQBroker.Configuration(url: amqpURL).virtualHost) ?? "/"
    }

    func management() throws -> ManagementClient {
        try ManagementClient(url: managementURL, virtualHost: virtualHost)
    }

    func broker() throws -> RabbitMQBroker {
        var configuration = try RabbitMQBroker.Configuration(url: amqpURL)
        configuration.connectionName = "mercato-cli"
        configuration.publishTimeout = .seconds(max(1, brokerTimeout))
        var logger = Logger(label: "mercato")
        logger.logLevel = .error
        return RabbitMQBroker(configuration: configuration, logger: logger)
    }
}
