import Locking
public import Tracing

/// A span of ``TraceContextTracer``: mutable until it ends, then handed to the exporters once.
public final class TraceSpan: Span {
    private struct State {
        var operationName: String
        var attributes: SpanAttributes = [:]
        var status: SpanStatus?
        var events: [SpanEvent] = []
        var links: [SpanLink] = []
        var ended = false
    }

    /// The span's context: its ``TraceContext`` and whatever the parent context carried.
    public let context: InstrumentationContext
    /// The kind: server, consumer, producer, internal.
    public let kind: SpanKind
    /// The parent span's id, `nil` for the first span of a trace.
    public let parentSpanID: String?
    private let startNanoseconds: UInt64
    private let exporters: [any SpanExporter]
    private let state: Locked<State>

    init(
        operationName: String, kind: SpanKind, context: InstrumentationContext, parentSpanID: String?,
        start: some TracerInstant,
        exporters: [any SpanExporter]
    ) {
        self.context = context
        self.kind = kind
        self.parentSpanID = parentSpanID
        self.startNanoseconds = start.nanosecondsSinceEpoch
        self.exporters = exporters
        self.state = Locked(State(operationName: operationName))
    }

    public var operationName: String {
        get { state.withLock { $0.operationName } }
        set { state.withLock { $0.operationName = newValue } }
    }

    public var attributes: SpanAttributes {
        get { state.withLock { $0.attributes } }
        set { state.withLock { $0.attributes = newValue } }
    }

    public var isRecording: Bool { state.withLock { !$0.ended } }

    public func setStatus(_ status: SpanStatus) {
        state.withLock { $0.status = status }
    }

    public func addEvent(_ event: SpanEvent) {
        state.withLock { $0.events.append(event) }
    }

    public func addLink(_ link: SpanLink) {
        state.withLock { $0.links.append(link) }
    }

    public func recordError<Instant: TracerInstant>(
        _ error: any Error, attributes: SpanAttributes, at instant: @autoclosure () -> Instant
    ) {
        var attributes = attributes
        attributes["exception.type"] = "\(type(of: error))"
        attributes["exception.message"] = "\(error)"
        addEvent(SpanEvent(name: "exception", at: instant(), attributes: attributes))
    }

    public func end<Instant: TracerInstant>(at instant: @autoclosure () -> Instant) {
        let end = instant().nanosecondsSinceEpoch
        guard
            let state = state.withLock({ state -> State? in
                guard !state.ended else { return nil }
                state.ended = true
                return state
            }), let trace = context.traceContext
        else { return }
        let finished = FinishedSpan(
            trace: trace, parentSpanID: parentSpanID, operationName: state.operationName, kind: kind,
            startNanoseconds: startNanoseconds,
            endNanoseconds: max(end, startNanoseconds), attributes: state.attributes, status: state.status,
            events: state.events)
        for exporter in exporters { exporter.export(finished) }
    }
}
