import Broker
import Contracts
import Foundation
import MercatoTesting
import Testing

/// `contracts/asyncapi.yaml` against the samples and against the topology the services
/// declare. scripts/check-asyncapi (Python: PyYAML, jsonschema — installed by
/// scripts/install-deps) does the schema work; the comparison with ``Topology`` is here.
@Suite(.timeLimit(.minutes(1)))
struct AsyncAPITests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    struct Summary: Decodable {
        struct Exchange: Decodable, Hashable {
            var name: String
            var type: String
            var durable: Bool
        }
        struct Queue: Decodable {
            var durable: Bool
            var bindings: [Binding]
        }
        struct Binding: Decodable, Hashable {
            var exchange: String
            var routingKey: String
        }
        var exchanges: [Exchange]
        var queues: [String: Queue]
        var errors: [String]
    }

    @Test func theSamplesMatchTheDocumentAndTheDocumentMatchesTheTopology() async throws {
        let (status, output) = try await Self.check()
        let summary = try JSONDecoder().decode(Summary.self, from: Data(output.utf8))
        #expect(status == 0)
        #expect(summary.errors.isEmpty, "\(summary.errors)")

        let topology = Topology.mercato()
        let topicExchanges = topology.exchanges.filter { $0.kind == .topic }
        #expect(
            Set(summary.exchanges)
                == Set(topicExchanges.map { Summary.Exchange(name: $0.name, type: "topic", durable: $0.durable) }))
        let consumerQueues = topology.queues.filter { !$0.name.hasSuffix(".dlq") && !$0.name.contains(".retry.") }
        #expect(Set(summary.queues.keys) == Set(consumerQueues.map(\.name)))
        for queue in consumerQueues {
            let documented = try #require(summary.queues[queue.name])
            #expect(documented.durable == queue.durable)
            let declared = topology.bindings.filter { $0.queue == queue.name }.map {
                Summary.Binding(exchange: $0.exchange, routingKey: $0.routingKey)
            }
            #expect(Set(documented.bindings) == Set(declared), "bindings of \(queue.name)")
        }
    }

    @Test func aSampleThatBreaksItsSchemaIsCaught() async throws {
        let samples = FileManager.default.temporaryDirectory.appendingPathComponent(
            "asyncapi-samples-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: Self.repository.appendingPathComponent("contracts/samples"), to: samples)
        defer { try? FileManager.default.removeItem(at: samples) }
        // Money as a JSON number: exactly what a careless producer in another language sends.
        let file = samples.appendingPathComponent("order.created.json")
        var event = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: file)) as? [String: Any])
        var data = try #require(event["data"] as? [String: Any])
        data["total"] = 44.48
        event["data"] = data
        try JSONSerialization.data(withJSONObject: event).write(to: file)

        let (status, output) = try await Self.check("--samples", samples.path)
        let summary = try JSONDecoder().decode(Summary.self, from: Data(output.utf8))
        #expect(status == 1)
        #expect(summary.errors.count == 1)
        #expect(summary.errors.first?.contains("order.created.json at data/total") == true, "\(summary.errors)")
    }

    /// Runs scripts/check-asyncapi; returns its status and standard output.
    static func check(_ arguments: String...) async throws -> (Int32, String) {
        let result = try await runProcess(
            ["python3", repository.appendingPathComponent("scripts/check-asyncapi").path] + arguments)
        return (result.status, result.output)
    }
}
