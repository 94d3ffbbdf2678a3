import Broker
import Contracts
import Foundation
import Logging
import ServiceKit
import Testing

@Suite(.timeLimit(.minutes(1)))
struct ConfigurationTests {
    /// A signing key: without one a service does not start.
    static let key = ["AUTH_JWT_SECRET": String(repeating: "k", count: 32)]

    @Test func defaultsWorkLocally() throws {
        let configuration = try ServiceConfiguration(
            serviceName: "order-service", defaultPort: 8080, defaultDatabase: "orders",
            environment: EnvironmentReader(Self.key))
        #expect(configuration.port == 8080)
        #expect(configuration.databaseURL == "postgres://mercato@127.0.0.1:5432/orders")
        #expect(configuration.amqpURL.hasPrefix("amqp://"))
        #expect(configuration.queueType == .classic)
        #expect(configuration.logLevel == .info)
    }

    @Test func environmentOverrides() throws {
        let configuration = try ServiceConfiguration(
            serviceName: "x", defaultPort: 1, defaultDatabase: "x",
            environment: EnvironmentReader(
                Self.key + ["PORT": "9000", "QUEUE_TYPE": "quorum", "LOG_LEVEL": "debug", "LOG_FORMAT": "json"]))
        #expect(configuration.port == 9000)
        #expect(configuration.queueType == .quorum)
        #expect(configuration.logLevel == .debug)
        #expect(configuration.logFormat == .json)
    }

    @Test(arguments: [
        ("PORT", "eighty"), ("PORT", "70000"), ("QUEUE_TYPE", "stream"), ("LOG_LEVEL", "loud"),
        ("DATABASE_POOL_SIZE", "0"),
    ])
    func badValuesNameTheVariable(_ variable: String, _ value: String) {
        #expect {
            try ServiceConfiguration(
                serviceName: "x", defaultPort: 1, defaultDatabase: "x",
                environment: EnvironmentReader(Self.key + [variable: value]))
        } throws: { error in
            (error as? ConfigurationError)?.variable == variable
        }
    }

    @Test func decimalsAndBooleans() throws {
        let reader = EnvironmentReader(["RATE": "0.075", "BAD": "abc", "ON": "yes", "OFF": "0", "NOPE": "maybe"])
        #expect(try reader.decimal("RATE", default: 0, in: 0...1) == Decimal(string: "0.075"))
        #expect(throws: ConfigurationError.self) { try reader.decimal("BAD", default: 0, in: 0...1) }
        #expect(try reader.bool("ON", default: false))
        #expect(try !reader.bool("OFF", default: true))
        #expect(throws: ConfigurationError.self) { try reader.bool("NOPE", default: true) }
    }

    @Test func secretsComeFromFiles() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("amqp-url-\(UUID())")
        try "amqp://svc:s3cret@rabbitmq:5672/%2F\n".write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let configuration = try ServiceConfiguration(
            serviceName: "x", defaultPort: 1, defaultDatabase: "x",
            environment: EnvironmentReader(Self.key + ["AMQP_URL_FILE": file.path]))
        #expect(configuration.amqpURL == "amqp://svc:s3cret@rabbitmq:5672/%2F")
        #expect {
            try ServiceConfiguration(
                serviceName: "x", defaultPort: 1, defaultDatabase: "x",
                environment: EnvironmentReader(Self.key + ["AMQP_URL_FILE": file.path, "AMQP_URL": "amqp://a:b@c/%2F"]))
        } throws: { ($0 as? ConfigurationError)?.variable == "AMQP_URL" }
        #expect {
            try ServiceConfiguration(
                serviceName: "x", defaultPort: 1, defaultDatabase: "x",
                environment: EnvironmentReader(Self.key + ["DATABASE_URL_FILE": "/nonexistent/secret"]))
        } throws: { ($0 as? ConfigurationError)?.variable == "DATABASE_URL_FILE" }
    }

    @Test func guestIsRefusedAwayFromTheLoopback() throws {
        #expect {
            try ServiceConfiguration(
                serviceName: "x", defaultPort: 1, defaultDatabase: "x",
                environment: EnvironmentReader(Self.key + ["AMQP_URL": "amqp://guest:guest@rabbitmq:5672/%2F"]))
        } throws: { ($0 as? ConfigurationError)?.variable == "AMQP_URL" }
        let local = try ServiceConfiguration(
            serviceName: "x", defaultPort: 1, defaultDatabase: "x",
            environment: EnvironmentReader(Self.key + ["AMQP_URL": "amqp://guest:guest@127.0.0.1:5672/%2F"]))
        #expect(local.amqpURL.contains("guest"))
    }
}

extension Dictionary where Key == String, Value == String {
    static func + (lhs: Self, rhs: Self) -> Self { lhs.merging(rhs) { $1 } }
}
