import Testing

@testable import Broker

/// `AMQP_URL` naming one node or every node of a cluster.
@Suite
struct RabbitMQConfigurationTests {
    typealias Node = RabbitMQBroker.Configuration.Node

    @Test func oneNode() throws {
        let configuration = try RabbitMQBroker.Configuration(url: "amqp://order-service:secret@rabbitmq:5673/shop")
        #expect(configuration.nodes == [Node(host: "rabbitmq", port: 5673)])
        #expect(
            configuration.username == "order-service" && configuration.password == "secret"
                && configuration.virtualHost == "shop")
    }

    @Test func aHostListInOneURL() throws {
        let configuration = try RabbitMQBroker.Configuration(url: "amqp://u:p%40ss@rmq-0:5672,rmq-1,10.0.0.3:5674/%2F")
        #expect(
            configuration.nodes == [
                Node(host: "rmq-0", port: 5672), Node(host: "rmq-1", port: 5672), Node(host: "10.0.0.3", port: 5674),
            ])
        #expect(configuration.username == "u" && configuration.password == "p@ss" && configuration.virtualHost == "/")
    }

    @Test func aListOfURLs() throws {
        let configuration = try RabbitMQBroker.Configuration(url: "amqps://u:p@a:5671/v,amqps://u:p@b:5681/v")
        #expect(configuration.nodes == [Node(host: "a", port: 5671), Node(host: "b", port: 5681)])
        #expect(configuration.tls && configuration.virtualHost == "v")
    }

    @Test func mixedSchemesAndEmptyHostsAreRefused() {
        #expect(throws: BrokerError.self) { try RabbitMQBroker.Configuration(url: "amqp://u:p@a/v,amqps://u:p@b/v") }
        #expect(throws: BrokerError.self) { try RabbitMQBroker.Configuration(url: "amqp://u:p@a,,b/v") }
    }

    @Test func everyPasswordIsRedacted() {
        let redacted = RabbitMQBroker.Configuration.redacted("amqp://u:secret@a:1,b:2/v")
        #expect(!redacted.contains("secret"))
        #expect(redacted.contains("a:1") && redacted.contains("b:2"))
    }
}
