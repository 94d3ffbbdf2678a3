public import Tracing

/// A swift-distributed-tracing `Tracer` that speaks W3C trace context: it continues the
/// trace of an incoming `traceparent` (HTTP header or AMQP header), starts a new one where
/// there is none, writes `traceparent` into outgoing carriers, and hands every finished span
/// to its ``SpanExporter``s.
///
/// Hummingbird's `TracingMiddleware` starts a server span per request through it; the
/// event consumer starts a consumer span per event; the outbox stores the current span's
/// `traceparent` with each event it writes.
public struct TraceContextTracer: Tracer {
    /// Where finished spans go.
    public let exporters: [any SpanExporter]

    /// Creates a tracer that reports finished spans to each of `exporters`.
    public init(exporters: [any SpanExporter]) {
        self.exporters = exporters
    }

    public func startSpan<Instant: TracerInstant>(
        _ operationName: String, context: @autoclosure () -> InstrumentationContext, ofKind kind: SpanKind,
        at instant: @autoclosure () -> Instant, function: String, file fileID: String, line: UInt
    ) -> TraceSpan {
        var context = context()
        let parent = context.traceContext
        let spanContext = parent?.child() ?? .root()
        context.traceContext = spanContext
        return TraceSpan(
            operationName: operationName, kind: kind, context: context, parentSpanID: parent?.spanID, start: instant(),
            exporters: exporters)
    }

    public func forceFlush() {
        for exporter in exporters { exporter.flush() }
    }

    public func extract<Carrier, Extract: Extractor>(
        _ carrier: Carrier, into context: inout InstrumentationContext, using extractor: Extract
    )
    where Extract.Carrier == Carrier {
        if let value = extractor.extract(key: "traceparent", from: carrier),
            let trace = TraceContext(traceparent: value)
        {
            context.traceContext = trace
        }
    }

    public func inject<Carrier, Inject: Injector>(
        _ context: InstrumentationContext, into carrier: inout Carrier, using injector: Inject
    )
    where Inject.Carrier == Carrier {
        if let trace = context.traceContext {
            injector.inject(trace.traceparent, forKey: "traceparent", into: &carrier)
        }
    }
}
