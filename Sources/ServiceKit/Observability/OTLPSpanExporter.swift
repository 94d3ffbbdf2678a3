public import Foundation
import Locking
public import Logging
public import ServiceLifecycle
import Tracing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Sends finished spans to an OpenTelemetry collector (Jaeger, Tempo, the OTel Collector)
/// over OTLP/HTTP with the JSON encoding: `POST <endpoint>/v1/traces`.
///
/// Written here rather than taken from swift-otel, whose gRPC and protobuf dependencies would
/// add minutes to every CI build for the one thing Mercato needs: spans over HTTP. Spans are
/// buffered and sent in batches every second from the service's own task, never on a
/// request's path; when the collector is away they are dropped past `maxQueued` (counted in
/// the log), and the service carries on.
public final class OTLPSpanExporter: SpanExporter, Service {
    /// Where and how spans are sent.
    public struct Configuration: Sendable {
        /// `http(s)://host:port/v1/traces` of the collector.
        public var tracesURL: URL
        /// `service.name` of the spans' resource.
        public var serviceName: String
        /// Spans per request. Default 512.
        public var batchSize = 512
        /// Spans held while the collector is slow or away, at most. Default 4096.
        public var maxQueued = 4096
        /// Longest wait before a partial batch is sent. Default 1 s.
        public var interval: Duration = .seconds(1)

        /// A configuration for the collector at `endpoint` (the OTLP base URL, as in
        /// `OTEL_EXPORTER_OTLP_ENDPOINT`: `http://collector:4318`).
        public init(endpoint: URL, serviceName: String) {
            self.tracesURL = endpoint.appendingPathComponent("v1/traces")
            self.serviceName = serviceName
        }
    }

    private struct Queue {
        var spans: [FinishedSpan] = []
        var dropped = 0
    }

    /// The configuration.
    public let configuration: Configuration
    private let logger: Logger
    private let queue = Locked(Queue())
    private let wake = WakeSignal()

    /// Creates the exporter; it sends once run as a service.
    public init(configuration: Configuration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    public func export(_ span: FinishedSpan) {
        let full = queue.withLock { queue -> Bool in
            if queue.spans.count >= configuration.maxQueued {
                queue.spans.removeFirst()
                queue.dropped += 1
            }
            queue.spans.append(span)
            return queue.spans.count >= configuration.batchSize
        }
        if full { wake.signal() }
    }

    public func flush() {
        wake.signal()
    }

    /// Sends batches until shutdown, then what is left.
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await self.wake.wait(timeout: self.configuration.interval)
                await self.send()
            }
        }
        await send()
    }

    private func send() async {
        while true {
            let (batch, dropped) = queue.withLock { queue in
                let batch = Array(queue.spans.prefix(configuration.batchSize))
                queue.spans.removeFirst(batch.count)
                defer { queue.dropped = 0 }
                return (batch, queue.dropped)
            }
            if dropped > 0 {
                logger.warning(
                    "spans dropped: the collector is not keeping up", metadata: ["otlp.dropped": "\(dropped)"])
            }
            guard !batch.isEmpty else { return }
            var request = URLRequest(url: configuration.tracesURL, timeoutInterval: 5)
            request.httpMethod = "POST"
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            do {
                let body = try JSONEncoder().encode(OTLPTraces(serviceName: configuration.serviceName, spans: batch))
                let (_, response) = try await URLSession.shared.upload(for: request, from: body)
                let status = (response as? HTTPURLResponse)?.statusCode ?? 0
                if !(200..<300).contains(status) {
                    logger.warning(
                        "the collector refused spans",
                        metadata: ["otlp.status": "\(status)", "otlp.spans": "\(batch.count)"])
                }
            } catch {
                logger.debug("spans not sent", metadata: ["error.message": "\(error)", "otlp.spans": "\(batch.count)"])
                return
            }
        }
    }
}

/// An OTLP `ExportTraceServiceRequest` in the protobuf JSON mapping (ids in hex, 64-bit
/// integers as strings).
struct OTLPTraces: Encodable {
    struct ResourceSpans: Encodable {
        var resource: Resource
        var scopeSpans: [ScopeSpans]
    }
    struct Resource: Encodable {
        var attributes: [KeyValue]
    }
    struct ScopeSpans: Encodable {
        var scope: Scope
        var spans: [Span]
    }
    struct Scope: Encodable {
        var name: String
    }
    struct Span: Encodable {
        var traceId: String
        var spanId: String
        var parentSpanId: String?
        var name: String
        var kind: Int
        var startTimeUnixNano: String
        var endTimeUnixNano: String
        var attributes: [KeyValue]
        var events: [Event]
        var status: Status
    }
    struct Event: Encodable {
        var timeUnixNano: String
        var name: String
        var attributes: [KeyValue]
    }
    struct Status: Encodable {
        var code: Int
        var message: String?
    }
    struct KeyValue: Encodable {
        var key: String
        var value: AnyValue
    }
    struct AnyValue: Encodable {
        var stringValue: String?
        var intValue: String?
        var doubleValue: Double?
        var boolValue: Bool?
    }

    var resourceSpans: [ResourceSpans]

    init(serviceName: String, spans: [FinishedSpan]) {
        resourceSpans = [
            ResourceSpans(
                resource: Resource(attributes: [
                    KeyValue(key: "service.name", value: AnyValue(stringValue: serviceName))
                ]),
                scopeSpans: [ScopeSpans(scope: Scope(name: "mercato"), spans: spans.map(Self.span))])
        ]
    }

    static func span(_ span: FinishedSpan) -> Span {
        Span(
            traceId: span.trace.traceID, spanId: span.trace.spanID, parentSpanId: span.parentSpanID,
            name: span.operationName,
            kind: kind(span.kind), startTimeUnixNano: String(span.startNanoseconds),
            endTimeUnixNano: String(span.endNanoseconds),
            attributes: attributes(span.attributes),
            events: span.events.map {
                Event(
                    timeUnixNano: String($0.nanosecondsSinceEpoch), name: $0.name, attributes: attributes($0.attributes)
                )
            },
            status: Status(code: span.status.map { $0.code == .ok ? 1 : 2 } ?? 0, message: span.status?.message))
    }

    static func kind(_ kind: SpanKind) -> Int {
        switch kind {
        case .internal: 1
        case .server: 2
        case .client: 3
        case .producer: 4
        case .consumer: 5
        }
    }

    static func attributes(_ attributes: SpanAttributes) -> [KeyValue] {
        var result: [KeyValue] = []
        attributes.forEach { key, attribute in
            let value: AnyValue =
                switch attribute {
                case .int32(let number): AnyValue(intValue: String(number))
                case .int64(let number): AnyValue(intValue: String(number))
                case .double(let number): AnyValue(doubleValue: number)
                case .bool(let flag): AnyValue(boolValue: flag)
                case .string(let text): AnyValue(stringValue: text)
                default: AnyValue(stringValue: "\(attribute)")
                }
            result.append(KeyValue(key: key, value: value))
        }
        return result
    }
}
