import ArgumentParser
import Broker
import Contracts
import Foundation
import Logging

/// `mercato topology apply`: the admin step that sets the broker up for least privilege.
struct TopologyApplyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Declare the topology and create one user per service with least-privilege permissions.",
        discussion: """
            Run with administrator credentials, before the services start. Declares every
            exchange, queue and binding the services use (over AMQP), then, through the
            management API, creates the users order-service, customer-service and
            invoice-service (password from --password-dir/<user>, created if missing) and
            sets their permissions on the virtual host: configure nothing, write only their own
            events' exchange and their own <service>.failures (retries and dead letters, bound to
            their own queues alone), read only their own queues
            (contracts/BrokerPermission.swift). Services whose user may not configure
            check the topology passively at start.
            """)

    @Option(help: "An administrator's AMQP URL (default: $AMQP_URL).")
    var amqpURL = ProcessInfo.processInfo.environment["AMQP_URL"] ?? "amqp://mercato:mercato@127.0.0.1:5672/%2F"
    @Option(help: "The management API, http://user:password@host:port (default: $RABBITMQ_MANAGEMENT_URL).")
    var managementURL =
        ProcessInfo.processInfo.environment["RABBITMQ_MANAGEMENT_URL"] ?? "http://mercato:mercato@127.0.0.1:15672"
    @Option(help: "QUEUE_TYPE: classic or quorum.") var queueType =
        ProcessInfo.processInfo.environment["QUEUE_TYPE"] ?? "classic"
    @Option(
        help:
            "A directory with one password file per service user; missing ones are created (AMQP_PASSWORD_ORDER_SERVICE etc. take precedence). Without it, no users are made."
    )
    var passwordDir: String?

    /// How long the broker may take to accept the connection. An orchestrator that runs this
    /// before the broker is up runs it again (the Kubernetes Job's retries).
    static let connectionTimeout = Duration.seconds(10)

    func validate() throws {
        guard QueueType(rawValue: queueType) != nil else {
            throw ValidationError("--queue-type must be classic or quorum")
        }
    }

    func run() async throws {
        let type = QueueType(rawValue: queueType) ?? .classic
        var configuration = try RabbitMQBroker.Configuration(url: amqpURL)
        configuration.connectionName = "mercato topology apply"
        configuration.publishTimeout = Self.connectionTimeout
        if let caFile = ProcessInfo.processInfo.environment["AMQP_CA_FILE"], !caFile.isEmpty {
            configuration.caFile = caFile
        }
        // Errors only: the broker's reconnection warnings would bury the one line that says
        // what failed.
        var logger = Logger(label: "mercato")
        logger.logLevel = .error
        let broker = RabbitMQBroker(configuration: configuration, logger: logger)
        do {
            try await broker.withRunning { try await broker.declare(.mercato(queueType: type)) }
        } catch let error as BrokerError where error.code == .connectionFailed {
            throw ValidationFailure(
                "cannot connect to RabbitMQ at \(RabbitMQBroker.Configuration.redacted(amqpURL)) within \(Self.connectionTimeout.components.seconds) s (refused, unreachable, or the login was refused)"
            )
        }
        print("topology declared on vhost \(configuration.virtualHost)")
        guard let passwordDir else { return }
        let client = try ManagementClient(url: managementURL, virtualHost: configuration.virtualHost)
        try FileManager.default.createDirectory(
            atPath: passwordDir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        for permission in BrokerPermission.mercato {
            let path = (passwordDir as NSString).appendingPathComponent(permission.user)
            let variable = "AMQP_PASSWORD_" + permission.user.uppercased().replacingOccurrences(of: "-", with: "_")
            let password: String
            if let given = ProcessInfo.processInfo.environment[variable], !given.isEmpty {
                // Compose and other orchestrators hand the passwords in (.env, secrets).
                password = given
            } else if let data = FileManager.default.contents(atPath: path), !data.isEmpty {
                password = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .newlines)
            } else {
                password = (0..<24).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
                guard
                    FileManager.default.createFile(
                        atPath: path, contents: Data(password.utf8), attributes: [.posixPermissions: 0o600])
                else {
                    throw ValidationError("cannot write \(path)")
                }
            }
            try await client.apply(permission, password: password)
            print(
                "user \(permission.user): configure \(permission.configure)  write \(permission.write)  read \(permission.read)"
            )
        }
    }
}
