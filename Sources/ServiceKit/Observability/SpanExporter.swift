public import Logging
public import Tracing

/// Where ``TraceContextTracer`` sends finished spans.
public protocol SpanExporter: Sendable {
    /// Takes a finished span; must not block (it is called on the request's path).
    func export(_ span: FinishedSpan)
    /// Sends what is buffered, if anything is.
    func flush()
}

/// A span that has ended, as exporters see it.
public struct FinishedSpan: Sendable {
    /// The span's trace and own id.
    public var trace: TraceContext
    /// The parent span's id; `nil` at the root of a trace.
    public var parentSpanID: String?
    /// What the span did: `POST /orders`, `order.created process`.
    public var operationName: String
    /// Server, consumer, producer, internal, client.
    public var kind: SpanKind
    /// Start, nanoseconds since the Unix epoch.
    public var startNanoseconds: UInt64
    /// End, nanoseconds since the Unix epoch.
    public var endNanoseconds: UInt64
    /// Attributes set on the span.
    public var attributes: SpanAttributes
    /// The status, if one was set.
    public var status: SpanStatus?
    /// Events recorded on the span (errors among them).
    public var events: [SpanEvent]

    /// The span's length in milliseconds.
    public var milliseconds: Double { Double(endNanoseconds - startNanoseconds) / 1_000_000 }
}

/// Writes every finished span as a `debug` log line with its trace and span ids, so traces
/// can be followed in the logs alone, with no collector; at `info` and above it costs
/// nothing but the level check.
public struct LogSpanExporter: SpanExporter {
    private let logger: Logger

    /// Creates an exporter that logs to `logger`.
    public init(logger: Logger) {
        self.logger = logger
    }

    public func export(_ span: FinishedSpan) {
        guard logger.logLevel <= .debug else { return }
        var metadata: Logger.Metadata = [
            "trace.id": "\(span.trace.traceID)", "span.id": "\(span.trace.spanID)", "span.kind": "\(span.kind)",
            "span.name": "\(span.operationName)", "span.duration_ms": "\((span.milliseconds * 1000).rounded() / 1000)",
        ]
        if let parent = span.parentSpanID { metadata["span.parent_id"] = "\(parent)" }
        if let status = span.status, status.code == .error { metadata["span.status"] = "error" }
        span.attributes.forEach { key, value in metadata["span.attributes.\(key)"] = "\(value)" }
        logger.debug("span ended", metadata: metadata)
    }

    public func flush() {}
}
