import Contracts
import Foundation
import MercatoTesting
import Testing

/// `mercato topology` against the live broker of a running system.
@Suite(.needsSystem, .systemSlot, .serialized, .timeLimit(.minutes(10)))
struct TopologySystemTests {
    @Test func showsTheLiveTopologyAndFailsWhenItIsMissing() async throws {
        let system = try await MercatoSystem.start()
        // The management API refreshes consumer counts every statistics interval: wait for it.
        var (status, output) = try await runCLI(["topology", "--vhost", system.name])
        // Until every consumer queue shows its consumer (the API's statistics lag).
        let deadline = ContinuousClock.now + .seconds(90)
        while ContinuousClock.now < deadline,
            output.split(separator: "\n").contains(where: { line in
                QueueName.consumerQueues.contains { line.hasPrefix("  \($0) ") } && line.hasSuffix(" 0")
            })
        {
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
        #expect(missing.contains("missing binding orders → catalog-service.order-events (order.created)"))
        await system.shutdown()
    }

    /// `mercato topology apply` with its own `--queue-type` and `--management-url`: the
    /// queues it declares are of that type, and the users are made through that API (here one
    /// that is not there, which the error names).
    @Test func applyDeclaresTheQueueTypeAndUsesTheManagementURLItIsGiven() async throws {
        let vhost = "apply_" + UUID().uuidString.prefix(8).lowercased()
        let management = try Management()
        try await management.createVirtualHost(vhost)
        let amqpURL = try Integration.amqpURL().split(separator: ",").first.map(String.init)!.replacingOccurrences(
            of: "/%2F", with: "/\(vhost)")
        let passwords = FileManager.default.temporaryDirectory.appendingPathComponent("apply-\(vhost)")
        defer { try? FileManager.default.removeItem(at: passwords) }
        // The users are shared by every system on this broker: should the command ever reach
        // the real management API, it sets the passwords the systems use, not new ones.
        var environment = ProcessInfo.processInfo.environment
        for permission in BrokerPermission.mercato {
            environment["AMQP_PASSWORD_" + permission.user.uppercased().replacingOccurrences(of: "-", with: "_")] =
                MercatoSystem.password(of: permission.user)
        }
        let (status, output) = try await runCLI(
            [
                "topology", "apply", "--amqp-url", amqpURL, "--queue-type", "quorum", "--management-url",
                "http://admin:s3cret@127.0.0.1:1",
                "--password-dir", passwords.path,
            ], environment: environment)
        #expect(status == 1, "\(output)")
        #expect(output.contains("topology declared on vhost \(vhost)"), "\(output)")
        #expect(
            output.contains("127.0.0.1:1") && !output.contains("s3cret"),
            "the error names the management API it was given: \(output)")

        let (listed, data) = try await management.send("GET", "/api/queues/\(vhost)")
        let queues = try #require(try JSONSerialization.jsonObject(with: data) as? [[String: Any]], "\(listed)")
        let types = Dictionary(
            uniqueKeysWithValues: queues.compactMap { queue in
                (queue["name"] as? String).map { ($0, queue["type"] as? String ?? "?") }
            })
        for queue in QueueName.consumerQueues {
            #expect(types[queue] == "quorum", "\(queue): \(types[queue] ?? "missing")")
            #expect(
                types[QueueName.deadLetter(of: queue)] == "quorum",
                "\(QueueName.deadLetter(of: queue)): \(types[QueueName.deadLetter(of: queue)] ?? "missing")"
            )
        }
        #expect(!types.isEmpty && types.values.allSatisfy { $0 == "quorum" }, "\(types)")

        // And `mercato topology` checks them as quorum queues when told so.
        let (checked, report) = try await runCLI(["topology", "--vhost", vhost, "--queue-type", "quorum", "--json"])
        let problems =
            (try? JSONSerialization.jsonObject(with: Data(report.utf8)) as? [String: Any])?["problems"] as? [String]
        #expect(checked == 0 && problems?.isEmpty == true, "\(report)")
        _ = try await management.send("DELETE", "/api/vhosts/\(vhost)")
    }

    /// Wrong credentials for the management API are one line naming it, at once: the API's
    /// 401 challenge once left the request waiting forever.
    @Test func wrongManagementCredentialsAreOneLineNamingTheAPI() async throws {
        let base = try #require(try Management().bases.first)
        var url = try #require(URLComponents(url: base, resolvingAgainstBaseURL: false))
        url.user = "mercato-nobody"
        url.password = "s3cret"
        let started = ContinuousClock.now
        let (status, output) = try await runCLI(["topology", "--management-url", try #require(url.string)])
        #expect(status == 1)
        #expect(output.split(separator: "\n").count == 1 && output.hasPrefix("mercato: "), "\(output)")
        #expect(
            output.contains(base.absoluteString) && output.contains("401") && !output.contains("s3cret"), "\(output)")
        #expect(ContinuousClock.now - started < .seconds(30))
    }

    func runCLI(_ arguments: [String], environment: [String: String]? = nil) async throws -> (Int32, String) {
        let result = try await runProcess(
            arguments, executable: MercatoSystem.binDirectory.appendingPathComponent("mercato"),
            environment: environment, mergingStandardError: true)
        return (result.status, result.output)
    }
}
