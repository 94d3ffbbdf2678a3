import Contracts
import Foundation
import MercatoTesting
import Testing

/// `mercato topology` against the live broker of a running system.
@Suite(.needsSystem, .serialized, .timeLimit(.minutes(10)))
struct TopologySystemTests {
    @Test func showsTheLiveTopologyAndFailsWhenItIsMissing() async throws {
        let system = try await MercatoSystem.start()
        // The management API refreshes consumer counts every statistics interval: wait for it.
        var (status, output) = try await runCLI(["topology", "--vhost", system.name])
        // Until every consumer queue shows its consumer (the API's statistics lag).
        let deadline = ContinuousClock.now + .seconds(90)
        while ContinuousClock.now < deadline, output.split(separator: "\n").contains(where: { line in
            QueueName.consumerQueues.contains { line.hasPrefix("  \($0) ") } && line.hasSuffix(" 0")
        }) {
            try await Task.sleep(for: .milliseconds(500))
            (status, output) = try await runCLI(["topology", "--vhost", system.name])
        }
        #expect(status == 0, "\(output)")
        #expect(output.contains("OK: every exchange, queue and binding"))
        for queue in QueueName.consumerQueues {
            // Each consumer queue, with one consumer: its service.
            let line = output.split(separator: "\n").first { $0.hasPrefix("  \(queue) ") }
            #expect(line?.split(separator: " ").last == "1", "\(line ?? "no line for \(queue)")")
        }

        let (jsonStatus, json) = try await runCLI(["topology", "--vhost", system.name, "--json"])
        #expect(jsonStatus == 0)
        let report = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        #expect((report["problems"] as? [String])?.isEmpty == true)

        // A vhost where nothing was declared: everything is missing, and the exit code says so.
        let empty = "empty_" + UUID().uuidString.prefix(8).lowercased()
        try await Management().createVirtualHost(empty)
        let (missingStatus, missing) = try await runCLI(["topology", "--vhost", empty])
        #expect(missingStatus == 1)
        #expect(missing.contains("missing exchange orders"))
        #expect(missing.contains("missing binding orders → invoice-service.order-created (order.created)"))
        await system.shutdown()
    }

    func runCLI(_ arguments: [String]) async throws -> (Int32, String) {
        let result = try await runProcess(
            arguments, executable: MercatoSystem.binDirectory.appendingPathComponent("mercato"), mergingStandardError: true)
        return (result.status, result.output)
    }
}
