public import Hummingbird
import HTTPTypes

extension HTTPField.Name {
    /// W3C trace context: `00-<trace id>-<parent id>-<flags>`.
    public static var traceparent: Self { Self("traceparent")! }
    /// A client's key for retrying a request safely (`POST /orders`).
    public static var idempotencyKey: Self { Self("Idempotency-Key")! }
}

extension Request {
    /// The request's W3C `traceparent`, if it sent a well-formed one.
    public var traceparent: String? {
        guard let value = headers[.traceparent], TraceParent.isValid(value) else { return nil }
        return value
    }
}

/// W3C trace-context helpers.
public enum TraceParent {
    /// Whether `value` is `00-<32 hex>-<16 hex>-<2 hex>` with non-zero ids.
    public static func isValid(_ value: String) -> Bool {
        let parts = value.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0].count == 2, parts[1].count == 32, parts[2].count == 16, parts[3].count == 2 else { return false }
        let hex = parts.allSatisfy { $0.allSatisfy(\.isHexDigit) && $0 == $0.lowercased() }
        return hex && parts[1] != String(repeating: "0", count: 32) && parts[2] != String(repeating: "0", count: 16)
    }
}
