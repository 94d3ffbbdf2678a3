import Broker
import Foundation
import Logging
import MercatoTesting

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

extension Integration {
    /// A broker on the test RabbitMQ that gives up and retries quickly; not yet running.
    static func makeBroker(
        _ name: String = "broker-tests", configure: (inout RabbitMQBroker.Configuration) -> Void = { _ in }
    ) throws
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
    static func withBroker<T>(_ name: String = "broker-tests", _ body: (RabbitMQBroker) async throws -> T) async throws
        -> T
    {
        let broker = try makeBroker(name)
        return try await broker.withRunning { try await body(broker) }
    }

    /// Deletes `queue` on the test broker's vhost through the management API, behind the
    /// broker's back (its consumers get a basic.cancel).
    static func deleteQueue(_ queue: String) async throws {
        guard let management = URLComponents(string: try managementURL()), let user = management.user,
            let password = management.password,
            let host = management.host, let port = management.port
        else { throw TestFailure("RABBITMQ_MANAGEMENT_URL is not a URL with credentials") }
        let vhost =
            try RabbitMQBroker.Configuration(url: amqpURL()).virtualHost.addingPercentEncoding(
                withAllowedCharacters: .alphanumerics) ?? "%2F"
        var request = URLRequest(url: URL(string: "http://\(host):\(port)/api/queues/\(vhost)/\(queue)")!)
        request.httpMethod = "DELETE"
        request.setValue(
            "Basic " + Data("\(user):\(password)".utf8).base64EncodedString(), forHTTPHeaderField: "Authorization")
        let (_, response) = try await URLSession.shared.data(for: request)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard (200..<300).contains(status) else { throw TestFailure("DELETE of queue \(queue) answered \(status)") }
    }
}
