public import Tracing

/// A W3C trace context (`traceparent`): the trace an operation belongs to and the span that
/// caused it. It travels in HTTP headers, in outbox rows and in the `traceparent` header and
/// CloudEvents extension of every event, so one order can be followed from its HTTP request
/// through the three services to its invoice.
public struct TraceContext: Sendable, Hashable {
    /// 32 lowercase hex digits, not all zero.
    public let traceID: String
    /// 16 lowercase hex digits, not all zero: the span that is the parent of the next one.
    public let spanID: String
    /// Whether the trace is sampled (flag `01`).
    public let sampled: Bool

    /// Parses `00-<trace id>-<parent id>-<flags>`; `nil` for anything else (a malformed
    /// header starts a new trace, as the W3C recommendation says, rather than failing).
    public init?(traceparent value: String) {
        let parts = value.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "00", Self.isHex(parts[1], count: 32), Self.isHex(parts[2], count: 16),
            Self.isHex(parts[3], count: 2), parts[1].contains(where: { $0 != "0" }),
            parts[2].contains(where: { $0 != "0" })
        else { return nil }
        self.traceID = String(parts[1])
        self.spanID = String(parts[2])
        self.sampled = (UInt8(parts[3], radix: 16) ?? 0) & 1 == 1
    }

    /// A context with the given ids.
    public init(traceID: String, spanID: String, sampled: Bool = true) {
        self.traceID = traceID
        self.spanID = spanID
        self.sampled = sampled
    }

    /// A new span in this trace (a child of this context's span).
    public func child() -> TraceContext {
        TraceContext(traceID: traceID, spanID: Self.randomID(bytes: 8), sampled: sampled)
    }

    /// The first span of a new trace.
    public static func root() -> TraceContext {
        TraceContext(traceID: randomID(bytes: 16), spanID: randomID(bytes: 8))
    }

    /// The `traceparent` header value.
    public var traceparent: String { "00-\(traceID)-\(spanID)-\(sampled ? "01" : "00")" }

    /// The context of the task's current span, if any.
    public static var current: TraceContext? { InstrumentationContext.current?.traceContext }

    private static func isHex(_ text: Substring, count: Int) -> Bool {
        text.utf8.count == count && text.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }

    /// `bytes` (a multiple of 8) random bytes as lowercase hex, never all zero.
    private static func randomID(bytes: Int) -> String {
        while true {
            var id = ""
            id.reserveCapacity(bytes * 2)
            for _ in 0..<(bytes / 8) {
                let word = String(UInt64.random(in: .min ... .max), radix: 16)
                id += String(repeating: "0", count: 16 - word.utf8.count) + word
            }
            if id.contains(where: { $0 != "0" }) { return id }
        }
    }
}

extension InstrumentationContext {
    private enum TraceContextKey: InstrumentationContextKey {
        typealias Value = TraceContext
        static var nameOverride: String? { "traceparent" }
    }

    /// The W3C trace context of the span this context belongs to.
    public var traceContext: TraceContext? {
        get { self[TraceContextKey.self] }
        set { self[TraceContextKey.self] = newValue }
    }
}
