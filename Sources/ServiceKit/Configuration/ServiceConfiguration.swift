public import Broker
import Contracts
public import Foundation
public import Logging

/// What every Mercato service reads from its environment. Each variable has a default that
/// works against the local RabbitMQ and PostgreSQL of `scripts/run`.
public struct ServiceConfiguration: Sendable {
    /// The service's name: log label, AMQP `app_id`, CloudEvents `source`.
    public var serviceName: String
    /// `PORT`: the HTTP port.
    public var port: Int
    /// `AMQP_URL` (or a file named by `AMQP_URL_FILE`): `amqp://user:pass@host:port/vhost`.
    /// Default: the `mercato` user of `scripts/run`'s broker on 127.0.0.1. RabbitMQ's
    /// `guest/guest` is refused for any host but the loopback.
    public var amqpURL: String
    /// `AMQP_CA_FILE`: with an `amqps://` URL, the PEM file of the CA the broker's
    /// certificate must chain to. Default: the system's CA bundle.
    public var amqpCAFile: String?
    /// `DATABASE_URL` (or a file named by `DATABASE_URL_FILE`): `postgres://user:pass@host:port/db`;
    /// `?sslmode=verify-full&sslrootcert=/ca.pem` for TLS with verification (libpq's own options).
    public var databaseURL: String
    /// `LOG_LEVEL`: trace, debug, info, notice, warning, error, critical. Default info.
    public var logLevel: Logger.Level
    /// `LOG_FORMAT`: `json` (one object per line, for containers) or `text`. Default `text`.
    public var logFormat: LogFormat
    /// `QUEUE_TYPE`: `classic` on one node, `quorum` on a cluster. Default classic.
    public var queueType: QueueType
    /// `DATABASE_POOL_SIZE`: connections to PostgreSQL at most. Default 4.
    public var databasePoolSize: Int
    /// `CONSUMER_PREFETCH`: unacknowledged deliveries per consumer. Default 200.
    public var consumerPrefetch: Int
    /// `CONSUMER_BATCH_SIZE`: deliveries applied in one transaction at most. Default 100.
    public var consumerBatchSize: Int
    /// `OUTBOX_RELAY_WORKERS`: outbox batches in flight at once (``OutboxRelay``). Default 1.
    public var relayWorkers: Int
    /// `MAX_BODY_BYTES`: largest accepted request body. Default 64 KiB.
    public var maxBodyBytes: Int
    /// `HTTP_IDLE_TIMEOUT_SECONDS`: an HTTP connection that neither sends a request part nor
    /// waits for a response this long is closed — one that sends nothing, stops in the
    /// middle of a request's head, or idles between requests. A response being written (a
    /// live stream, however quiet) is never cut by it. Default 60.
    public var httpIdleTimeout: Duration
    /// `CONSUMER_MAX_ATTEMPTS`: attempts at a failing event (1 s, 5 s, then 30 s apart)
    /// before it is dead-lettered. Default 5.
    public var consumerMaxAttempts: Int

    /// `EVENT_PRODUCERS`: which broker users may produce which events, as
    /// `order.created=order-service,invoice.created=invoice-service|billing`. Default: each
    /// type's family service (`invoice.created` from `invoice-service`). Events from anyone
    /// else are dead-lettered with reason `forbidden_publisher`.
    public var eventProducers: [String: Set<String>]
    /// `AMQP_OPERATOR_USER`: the broker user of the operator, whose dead-letter replays keep the
    /// producer the dead letter recorded. Default `mercato`.
    public var operatorUser: String

    /// Who may produce the events this service consumes: ``eventProducers``, and as
    /// republishers the service's own broker user (its retries) and the operator (replays).
    public var producerPolicy: ProducerPolicy {
        let own = URLComponents(string: amqpURL)?.user.map { $0.removingPercentEncoding ?? $0 }
        return ProducerPolicy(producers: eventProducers, republishers: Set([own, operatorUser].compactMap { $0 }))
    }

    /// `AUTH_*`: how bearer tokens are verified (``AuthConfiguration``). Required: a service
    /// without a key does not start.
    public var auth: AuthConfiguration

    /// `OTEL_EXPORTER_OTLP_ENDPOINT`: an OpenTelemetry collector's OTLP/HTTP base URL
    /// (`http://jaeger:4318`) to send spans to. Default unset: spans are only logged at `debug`.
    public var otlpEndpoint: URL?
    /// How long the outbox and inbox keep what they are done with (``OutboxPruning``).
    public var outboxPruning: OutboxPruning

    /// How log lines are written.
    public enum LogFormat: String, Sendable, CaseIterable {
        case text, json
    }

    /// Reads the common variables; `defaultPort` and `defaultDatabase` are the service's own.
    public init(
        serviceName: String, defaultPort: Int, defaultDatabase: String,
        environment: EnvironmentReader = EnvironmentReader()
    ) throws {
        self.serviceName = serviceName
        self.port = try environment.int("PORT", default: defaultPort, in: 0...65535)
        self.amqpURL = try environment.secret("AMQP_URL", default: "amqp://mercato:mercato@127.0.0.1:5672/%2F")
        self.databaseURL = try environment.secret(
            "DATABASE_URL", default: "postgres://mercato@127.0.0.1:5432/\(defaultDatabase)")
        try Self.refuseDefaultCredentials(amqpURL)
        let caFile = environment.string("AMQP_CA_FILE", default: "")
        self.amqpCAFile = caFile.isEmpty ? nil : caFile
        let level = environment.string("LOG_LEVEL", default: "info").lowercased()
        guard let logLevel = Logger.Level(rawValue: level) else {
            throw ConfigurationError(
                variable: "LOG_LEVEL",
                message:
                    "expected trace, debug, info, notice, warning, error or critical, got \(level.debugDescription)")
        }
        self.logLevel = logLevel
        self.logFormat = try environment.value("LOG_FORMAT", default: .text)
        self.queueType = try environment.value("QUEUE_TYPE", default: .classic)
        self.databasePoolSize = try environment.int("DATABASE_POOL_SIZE", default: 4, in: 1...100)
        self.consumerPrefetch = try environment.int("CONSUMER_PREFETCH", default: 200, in: 1...65535)
        self.consumerBatchSize = try environment.int("CONSUMER_BATCH_SIZE", default: 100, in: 1...1000)
        self.relayWorkers = try environment.int(
            "OUTBOX_RELAY_WORKERS", default: OutboxRelay.Configuration().workers, in: 1...16)
        self.maxBodyBytes = try environment.int("MAX_BODY_BYTES", default: 64 * 1024, in: 1024...(16 * 1024 * 1024))
        self.httpIdleTimeout = .seconds(try environment.int("HTTP_IDLE_TIMEOUT_SECONDS", default: 60, in: 1...86_400))
        self.consumerMaxAttempts = try environment.int(
            "CONSUMER_MAX_ATTEMPTS", default: RetryPolicy.maxAttempts, in: 1...100)
        self.auth = try AuthConfiguration(environment: environment)
        self.outboxPruning = try OutboxPruning(environment: environment)
        self.operatorUser = environment.string("AMQP_OPERATOR_USER", default: "mercato")
        var producers: [String: Set<String>] = [:]
        for entry in environment.string("EVENT_PRODUCERS", default: "").split(separator: ",") {
            let parts = entry.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw ConfigurationError(
                    variable: "EVENT_PRODUCERS",
                    message:
                        "expected type=user|user,… such as invoice.created=invoice-service, got \(String(entry).debugDescription)"
                )
            }
            producers[parts[0], default: []].formUnion(parts[1].split(separator: "|").map(String.init))
        }
        self.eventProducers = producers
        let endpoint = environment.string("OTEL_EXPORTER_OTLP_ENDPOINT", default: "")
        if endpoint.isEmpty {
            self.otlpEndpoint = nil
        } else {
            guard let url = URL(string: endpoint), ["http", "https"].contains(url.scheme ?? ""), url.host != nil else {
                throw ConfigurationError(
                    variable: "OTEL_EXPORTER_OTLP_ENDPOINT",
                    message: "expected an http(s) URL such as http://collector:4318, got \(endpoint.debugDescription)")
            }
            self.otlpEndpoint = url
        }
    }

    /// RabbitMQ's well-known `guest/guest` belongs to a broker on the same machine (RabbitMQ
    /// itself refuses it from elsewhere); anywhere else it is a deployment mistake, reported
    /// before the service starts rather than as a vague authentication failure.
    static func refuseDefaultCredentials(_ amqpURL: String) throws {
        guard let broker = try? RabbitMQBroker.Configuration(url: amqpURL), broker.username == "guest",
            broker.password == "guest"
        else { return }
        guard
            let host = broker.nodes.map(\.host).first(where: {
                !["localhost", "127.0.0.1", "::1", "[::1]"].contains($0)
            })
        else { return }
        throw ConfigurationError(
            variable: "AMQP_URL",
            message: "guest/guest is for a broker on this machine only; give \(host) a user of its own")
    }

    /// Who the service's events come from: `source` `/mercato/<name>`, `app_id` the name.
    public var eventStamp: EventStamp { EventStamp(serviceName: serviceName) }
}
