public import Hummingbird
import HTTPTypes

extension HTTPField.Name {
    /// W3C trace context: `00-<trace id>-<parent id>-<flags>`.
    public static var traceparent: Self { Self("traceparent")! }
    /// A client's key for retrying a request safely (`POST /orders`).
    public static var idempotencyKey: Self { Self("Idempotency-Key")! }
}

extension Request {
    /// The `traceparent` of what this request writes: its server span, which `TracingMiddleware`
    /// started as a child of the caller's `traceparent` (or as the root of a new trace). Without
    /// a tracer (unit tests), the caller's own well-formed header.
    public var traceparent: String? {
        TraceContext.current?.traceparent ?? headers[.traceparent].flatMap(TraceContext.init(traceparent:))?.traceparent
    }
}
