import Foundation
import MercatoTesting
import Testing

/// Spans reach an OpenTelemetry collector over OTLP/HTTP when `OTEL_EXPORTER_OTLP_ENDPOINT`
/// is set. The collector here is a few lines of Python that keep what is POSTed to
/// `/v1/traces` — the services' real exporter, a stand-in receiver.
@Suite(.needsSystem, .systemSlot, .serialized, .timeLimit(.minutes(10)))
struct OTLPSystemTests {
    @Test func oneOrdersSpansFromEveryServiceReachTheCollector() async throws {
        let collector = try Collector()
        defer { collector.stop() }
        let system = try await MercatoSystem.start(environment: [
            "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:\(collector.port)"
        ])
        let traceID = TraceParts.randomTraceID()
        try await system.placeOrderUntilInvoiced(traceparent: "00-\(traceID)-00f067aa0ba902b7-01")
        // Each service's spans of this trace: order-service's server span and its consumer span
        // of invoice.created, customer- and catalog-service's consumer spans of order.created,
        // invoice-service's of stock.reserved (catalog-service carried the trace on).
        // Each exporter sends on its own schedule, so wait for every expected span rather than
        // for a count: order-service's server span can arrive well before its consumer span.
        let expected: [(service: String, name: String, kind: Int)] = [
            ("order-service", "/orders", 2),
            ("customer-service", "order.created process", 5),
            ("catalog-service", "order.created process", 5),
            ("invoice-service", "stock.reserved process", 5),
            ("order-service", "invoice.created process", 5),
        ]
        var spans: [(service: String, name: String, kind: Int, parent: String?)] = []
        var missing = expected.map { "\($0.service) \($0.name)" }
        do {
            try await system.eventually("the collector has the trace's spans") {
                spans = collector.spans(ofTrace: traceID)
                missing = expected.filter { want in
                    !spans.contains { $0.service == want.service && $0.name == want.name && $0.kind == want.kind }
                }.map { "\($0.service) \($0.name)" }
                return missing.isEmpty
            }
        } catch {
            Issue.record("spans never received: \(missing); received: \(spans.map { "\($0.service) \($0.name)" })")
            throw error
        }
        let server = try #require(spans.first { $0.service == "order-service" && $0.kind == 2 })
        #expect(server.parent == "00f067aa0ba902b7")
        await system.shutdown()
    }
}

/// An OTLP/HTTP receiver that appends each request body to a file, one per line.
final class Collector: Sendable {
    let port: Int
    let file: URL
    private let process: Process

    init() throws {
        port = try freePort()
        file = FileManager.default.temporaryDirectory.appendingPathComponent("otlp-\(UUID().uuidString).jsonl")
        _ = FileManager.default.createFile(atPath: file.path, contents: nil)
        let script = """
            import http.server, sys
            class Receiver(http.server.BaseHTTPRequestHandler):
                def do_POST(self):
                    body = self.rfile.read(int(self.headers["Content-Length"]))
                    if self.path == "/v1/traces":
                        with open(sys.argv[2], "ab") as f: f.write(body + b"\\n")
                    self.send_response(200 if self.path == "/v1/traces" else 404)
                    self.send_header("Content-Type", "application/json")
                    self.end_headers()
                    self.wfile.write(b"{}")
                def log_message(self, *args): pass
            http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Receiver).serve_forever()
            """
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, String(port), file.path]
        // Not the test runner's output: a child holding it open keeps `swift test` waiting.
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
    }

    func stop() {
        // SIGKILL: a child of the test process inherits a signal mask that blocks SIGTERM.
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: file)
    }

    /// The spans received so far of `traceID`: service, name, kind, parent span id.
    func spans(ofTrace traceID: String) -> [(service: String, name: String, kind: Int, parent: String?)] {
        let text = (try? String(contentsOf: file, encoding: .utf8)) ?? ""
        var result: [(String, String, Int, String?)] = []
        for line in text.split(separator: "\n") {
            guard let request = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                continue
            }
            for resourceSpans in request["resourceSpans"] as? [[String: Any]] ?? [] {
                let attributes = (resourceSpans["resource"] as? [String: Any])?["attributes"] as? [[String: Any]] ?? []
                let service =
                    attributes.first { $0["key"] as? String == "service.name" }
                    .flatMap { ($0["value"] as? [String: Any])?["stringValue"] as? String } ?? "?"
                for scope in resourceSpans["scopeSpans"] as? [[String: Any]] ?? [] {
                    for span in scope["spans"] as? [[String: Any]] ?? [] where span["traceId"] as? String == traceID {
                        result.append(
                            (
                                service, span["name"] as? String ?? "", span["kind"] as? Int ?? 0,
                                span["parentSpanId"] as? String
                            ))
                    }
                }
            }
        }
        return result
    }
}
