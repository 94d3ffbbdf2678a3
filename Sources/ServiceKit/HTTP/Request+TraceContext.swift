import HTTPTypes
public import Hummingbird

extension HTTPField.Name {
    /// W3C trace context: `00-<trace id>-<parent id>-<flags>`.
    public static var traceparent: Self { Self("traceparent")! }
    /// A client's key for retrying a request safely (`POST /orders`).
    public static var idempotencyKey: Self { Self("Idempotency-Key")! }
    /// Server-Sent Events: the id of the last event a reconnecting client received.
    public static var lastEventID: Self { Self("Last-Event-ID")! }
    /// Tells nginx-style proxies not to buffer a response (a buffered stream is not live).
    public static var accelBuffering: Self { Self("X-Accel-Buffering")! }
    /// Which pages may link to where this one came from.
    public static var referrerPolicy: Self { Self("Referrer-Policy")! }
    /// `nosniff`: a response is only ever what its `Content-Type` says.
    public static var contentTypeOptions: Self { Self("X-Content-Type-Options")! }
}

extension Request {
    /// The `traceparent` of what this request writes: its server span, which `TracingMiddleware`
    /// started as a child of the caller's `traceparent` (or as the root of a new trace). Without
    /// a tracer (unit tests), the caller's own well-formed header.
    public var traceparent: String? {
        TraceContext.current?.traceparent ?? headers[.traceparent].flatMap(TraceContext.init(traceparent:))?.traceparent
    }
}
