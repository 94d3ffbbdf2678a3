import Broker
import ArgumentParser
import Contracts
import Foundation

/// `mercato topology`: the live topology, checked against what the services declare.
struct TopologyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "topology",
        abstract: "Show exchanges, queues, bindings, consumers and depths; fail if the expected topology is missing.",
        discussion: """
            Reads the RabbitMQ management API and compares it with the topology every Mercato
            service declares at start-up (contracts/Topology+Mercato.swift). Exits 1 if an
            exchange, queue or binding is missing or has another type.
            """,
        subcommands: [TopologyApplyCommand.self])

    @Option(help: "The management API, http://user:password@host:port (default: $RABBITMQ_MANAGEMENT_URL or the local scripts/run broker).")
    var managementURL: String = ProcessInfo.processInfo.environment["RABBITMQ_MANAGEMENT_URL"] ?? "http://mercato:mercato@127.0.0.1:15672"

    @Option(help: "The virtual host.")
    var vhost: String = "/"

    @Option(help: "The queue type the services were configured with (QUEUE_TYPE).")
    var queueType: String = ProcessInfo.processInfo.environment["QUEUE_TYPE"] ?? "classic"

    @Flag(help: "Print JSON instead of tables.")
    var json = false

    func run() async throws {
        guard let type = QueueType(rawValue: queueType) else { throw ValidationError("--queue-type must be classic or quorum") }
        let client = try ManagementClient(url: managementURL, virtualHost: vhost)
        async let exchanges = client.exchanges()
        async let queues = client.queues()
        async let bindings = client.bindings()
        let report = TopologyReport(
            expected: .mercato(queueType: type), exchanges: try await exchanges, queues: try await queues, bindings: try await bindings)
        if json {
            let data = try JSONSerialization.data(withJSONObject: report.json, options: [.prettyPrinted, .sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print(report.text)
        }
        if !report.problems.isEmpty { throw ExitCode(1) }
    }
}
