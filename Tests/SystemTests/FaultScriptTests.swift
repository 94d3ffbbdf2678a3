import Foundation
import MercatoTesting
import Testing

/// `scripts/fault-injection` and the suite it runs agree on the scenarios, and a typo is an
/// error, not a green run of nothing.
@Suite(.timeLimit(.minutes(2)))
struct FaultScriptTests {
    static let script = RunScriptSystemTests.repository.appendingPathComponent("scripts/fault-injection")

    @Test func theScriptKnowsExactlyTheSuitesScenarios() throws {
        let text = try String(contentsOf: Self.script, encoding: .utf8)
        let line = try #require(text.split(separator: "\n").first { $0.hasPrefix("scenarios=(") })
        let names = line.dropFirst("scenarios=(".count).dropLast().split(separator: " ").map(String.init)
        #expect(names == FaultScenario.allCases.map(\.rawValue))
    }

    @Test func anUnknownScenarioFailsAndListsTheScenarios() async throws {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("fault-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: output) }
        let status = try await MercatoSystem.run(
            Self.script, ["rabbitmq", "postgress"], output: try FileHandle(forWritingTo: output), timeout: .seconds(60))
        let text = try String(contentsOf: output, encoding: .utf8)
        #expect(status != 0)
        #expect(
            text.contains("unknown scenario 'postgress'")
                && text.contains(FaultScenario.allCases.map(\.rawValue).joined(separator: " ")), "\(text)")
    }
}
