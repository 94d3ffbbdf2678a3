import ArgumentParser
import Broker
import Contracts
import Foundation

/// `mercato topology [show]`: the live topology, checked against what the services declare.
struct TopologyShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show exchanges, queues, bindings, consumers and depths; fail if the expected topology is missing.",
        discussion: """
            Reads the RabbitMQ management API and compares it with the topology every Mercato
            service declares at start-up (contracts/Topology+Mercato.swift). Exits 1 if an
            exchange, queue or binding is missing or has another type.
            """)

    @Option(
        help:
            "The management API, http://user:password@host:port (default: $RABBITMQ_MANAGEMENT_URL or the local scripts/run broker)."
    )
    var managementURL: String =
        ProcessInfo.processInfo.environment["RABBITMQ_MANAGEMENT_URL"] ?? "http://mercato:mercato@127.0.0.1:15672"

    @Option(help: "The virtual host.")
    var vhost: String = "/"

    @Option(help: "The queue type the services were configured with (QUEUE_TYPE).")
    var queueType: String = ProcessInfo.processInfo.environment["QUEUE_TYPE"] ?? "classic"

    @Flag(help: "Print JSON instead of tables.")
    var json = false

    func validate() throws {
        guard QueueType(rawValue: queueType) != nil else {
            throw ValidationError("--queue-type must be classic or quorum")
        }
    }

    func run() async throws {
        let type = QueueType(rawValue: queueType) ?? .classic
        let client = try ManagementClient(url: managementURL, virtualHost: vhost)
        // One after the other: FoundationNetworking can crash ("a task that is not in the
        // registry") when requests running at once fail together, as they all do when the
        // API is not there.
        let exchanges = try await client.exchanges()
        let queues = try await client.queues()
        let bindings = try await client.bindings()
        let report = TopologyReport(
            expected: .mercato(queueType: type), exchanges: exchanges, queues: queues, bindings: bindings)
        if json {
            let data = try JSONSerialization.data(withJSONObject: report.json, options: [.prettyPrinted, .sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print(report.text)
        }
        if !report.problems.isEmpty { throw ExitCode(1) }
    }
}
