import Audit
import Contracts
import Foundation
import Locking
import MercatoTesting
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The cluster fault suite: the system on a three-node RabbitMQ cluster with quorum queues
/// and two replicas of every service, under a steady stream of orders spread over both
/// order-service replicas, while a node dies, the nodes restart in turn, a node is cut off,
/// a replica of each service freezes past its heartbeat timeout or dies, or PostgreSQL
/// stalls. Each scenario ends with the same audit as the single-node suite.
///
/// It needs `scripts/infra up --cluster`: `scripts/test` runs it in a phase of its own, and
/// `scripts/fault-injection --cluster` runs it alone.
@Suite(.needsSystem, .systemSlot, .serialized, .timeLimit(.minutes(30)))
struct ClusterFaultTests {
    @Test func nothingIsLostOrDoubledWhenTheClusterOrAReplicaFails() async throws {
        guard MercatoSystem.isCluster else {
            throw SystemTestFailure(
                "the cluster fault suite needs a three-node RabbitMQ cluster: run it through scripts/test or scripts/fault-injection --cluster"
            )
        }
        try await runFaultScenarios(FaultScenario.selected(cluster: true))
    }
}

/// A second replica of every service beside the system's own: same database, same queues,
/// a port of its own.
final class Replicas: Sendable {
    private let running = Locked<[MercatoSystem.Service: (port: Int, process: Process)]>([:])

    /// Starts one replica of each service and waits until all are ready.
    func launch(on system: MercatoSystem) async throws {
        for service in MercatoSystem.Service.allCases {
            let replica = try system.launchReplica(service)
            running.withLock { $0[service] = replica }
        }
        try await waitUntilReady(on: system)
    }

    func ports(of service: MercatoSystem.Service) -> [Int] {
        running.withLock { $0[service].map { [$0.port] } ?? [] }
    }

    /// Sends `signal` (SIGSTOP, SIGCONT) to every replica.
    func signal(_ signal: Int32) {
        for (_, replica) in running.withLock({ $0 }) { Foundation.kill(replica.process.processIdentifier, signal) }
    }

    /// Kills every replica with SIGKILL and waits until they are gone.
    func kill() async {
        let all = running.withLock { running in
            defer { running.removeAll() }
            return Array(running.values)
        }
        for replica in all { Foundation.kill(replica.process.processIdentifier, SIGKILL) }
        for replica in all {
            try? await waitUntil("a replica to die of SIGKILL", timeout: .seconds(30), interval: .milliseconds(50)) {
                !replica.process.isRunning
            }
        }
    }

    /// Stops the replicas left (SIGTERM, then SIGKILL after 30 s).
    func stop() async {
        let all = running.withLock { running in
            defer { running.removeAll() }
            return Array(running.values)
        }
        for replica in all {
            Foundation.kill(replica.process.processIdentifier, SIGCONT)
            replica.process.terminate()
        }
        for replica in all {
            do {
                try await waitUntil("a replica to stop", timeout: .seconds(30), interval: .milliseconds(50)) {
                    !replica.process.isRunning
                }
            } catch {
                Foundation.kill(replica.process.processIdentifier, SIGKILL)
            }
        }
    }

    /// Waits until every replica answers `/health/ready` with 200.
    func waitUntilReady(on system: MercatoSystem, timeout: Duration = .seconds(90)) async throws {
        for (service, replica) in running.withLock({ $0 }) {
            try await waitUntil(
                "the \(service.rawValue) replica on port \(replica.port) to be ready", timeout: timeout,
                interval: .milliseconds(200)
            ) {
                let answer = try? await system.request(service, "GET", "/health/ready", port: replica.port)
                return answer?.0 == 200
            }
        }
    }
}

/// The test cluster's nodes, as scripts/infra numbers them (1, 2, 3) and the management API
/// names them.
enum ClusterNodes {
    static var names: [String] {
        (MercatoSystem.environment["MERCATO_RABBITMQ_NODE_NAMES"] ?? "").split(separator: ",").map(String.init)
    }

    /// The number of the node that holds the leader of `queue` on `system`'s vhost.
    static func leader(of queue: String, on system: MercatoSystem) async throws -> Int {
        let management = try Management()
        let leader = Locked<String?>(nil)
        try await waitUntil(
            "the management API to name the leader of \(queue)", timeout: .seconds(30), interval: .milliseconds(200)
        ) {
            let (status, data) = try await management.send("GET", "/api/queues/\(system.name)/\(queue)")
            guard status == 200, let json = try JSONSerialization.jsonObject(with: data) as? [String: Any],
                let name = json["leader"] as? String
            else { return false }
            leader.withLock { $0 = name }
            return true
        }
        let name = leader.withLock { $0 } ?? ""
        guard let index = names.firstIndex(of: name) else {
            throw SystemTestFailure("\(queue)'s leader \(name) is none of the nodes \(names)")
        }
        return index + 1
    }

    /// The services' connections on `system`'s vhost by node number, once the management
    /// API lists all `expected` of them (its view of other nodes' connections lags, and on a
    /// busy machine some were missing for seconds), or what it lists after `timeout`.
    static func serviceConnections(of system: MercatoSystem, expected: Int, timeout: Duration = .seconds(60))
        async throws -> [Int: Int]
    {
        let management = try Management()
        let byNode = Locked<[Int: Int]>([:])
        try? await waitUntil(
            "the management API to list \(expected) service connections", timeout: timeout, interval: .milliseconds(500)
        ) {
            let (status, data) = try await management.send("GET", "/api/vhosts/\(system.name)/connections")
            guard status == 200, let connections = try JSONSerialization.jsonObject(with: data) as? [[String: Any]]
            else { return false }
            var counts: [Int: Int] = [:]
            for connection in connections where (connection["user"] as? String)?.hasSuffix("-service") == true {
                if let index = names.firstIndex(of: connection["node"] as? String ?? "") {
                    counts[index + 1, default: 0] += 1
                }
            }
            byNode.withLock { $0 = counts }
            return counts.values.reduce(0, +) >= expected
        }
        return byNode.withLock { $0 }
    }

    /// How many connections two replicas of every service hold: each process one to publish
    /// and one per queue it consumes.
    static var expectedServiceConnections: Int {
        (QueueName.consumerQueues.count + MercatoSystem.Service.allCases.count) * 2
    }

    /// Waits until the management API reports every node of the cluster running.
    static func waitUntilAllRunning(timeout: Duration = .seconds(90)) async throws {
        let management = try Management()
        let expected = names.count
        try await waitUntil("every RabbitMQ node of the cluster to run", timeout: timeout, interval: .milliseconds(500))
        {
            guard let (status, data) = try? await management.send("GET", "/api/nodes"), status == 200,
                let nodes = try? JSONSerialization.jsonObject(with: data) as? [[String: Any]]
            else { return false }
            return nodes.count == expected && nodes.allSatisfy { $0["running"] as? Bool == true }
        }
    }
}
