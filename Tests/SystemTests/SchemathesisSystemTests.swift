import Foundation
import MercatoTesting
import Testing

/// Each service's OpenAPI document checked against the service itself: schemathesis (PyPI,
/// installed by `scripts/install-deps`) reads `GET /openapi.json` and sends generated
/// requests, valid and invalid, to every documented operation, with every check on: no 5xx,
/// only documented status codes, content types and headers, responses that match their
/// schemas, invalid requests refused, valid ones accepted, undocumented methods answered 405.
/// `schemathesis.toml` beside this file lists the two data-dependent exceptions.
@Suite(.needsSystem, .systemSlot, .serialized, .timeLimit(.minutes(10)))
struct SchemathesisSystemTests {
    /// Fixed, so a failure reproduces; `MERCATO_SCHEMATHESIS_SEED` explores other cases.
    static let seed = MercatoSystem.environment["MERCATO_SCHEMATHESIS_SEED"] ?? "20261125"

    @Test(arguments: MercatoSystem.Service.allCases)
    func theOpenAPIDocumentDescribesTheService(_ service: MercatoSystem.Service) async throws {
        let system = try await MercatoSystem.start()
        let config = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
            "schemathesis.toml"
        ).path
        let (status, output) = try await Self.run(
            "python3", "-c", "import sys; from schemathesis.cli import schemathesis; sys.exit(schemathesis())",
            "--no-color", "--config-file", config, "run", "http://127.0.0.1:\(system.ports[service]!)/openapi.json",
            // With an operator's token; `ignored_auth` (among --checks all) sends each
            // protected operation without it too, and expects the 401 the document declares.
            "--header", "Authorization: Bearer \(system.adminToken)",
            // `--checks all` includes a response-time limit (10 s unless given); it is set to
            // the request timeout, so it fails nothing the deadline would not: a test asserts
            // the contract, and how fast a debug build answers beside other suites is the
            // machine's, not the document's (benchmarks measure latency).
            "--checks", "all", "--max-examples", "100", "--seed", Self.seed, "--request-timeout", "30",
            "--max-response-time", "30")
        #expect(status == 0, "schemathesis found \(service.rawValue) and its document disagree:\n\(output)")
        #expect(output.contains(" passed"), "\(output)")
        // And the service is still healthy afterwards.
        try await system.waitUntilReady(service)
        await system.shutdown()
    }

    /// Runs a command in a scratch directory (schemathesis keeps a `.schemathesis/` cache in
    /// its working directory); returns its status and combined output.
    static func run(_ arguments: String...) async throws -> (Int32, String) {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("schemathesis-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let output = scratch.appendingPathComponent("output.log")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        let handle = try FileHandle(forWritingTo: output)
        let status = try await MercatoSystem.run(
            URL(fileURLWithPath: "/usr/bin/env"), arguments, output: handle, in: scratch)
        try handle.close()
        return (status, (try? String(contentsOf: output, encoding: .utf8)) ?? "")
    }
}
