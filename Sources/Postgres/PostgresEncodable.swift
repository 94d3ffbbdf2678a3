public import Foundation

/// A Swift value that can be bound to a statement parameter. Values travel in PostgreSQL's
/// text format, separately from the SQL: they are never spliced into the statement text.
public protocol PostgresEncodable: Sendable {
    /// The value in PostgreSQL's text format, or `nil` for SQL `NULL`.
    var postgresText: String? { get }
}

extension String: PostgresEncodable {
    public var postgresText: String? { self }
}

extension Int: PostgresEncodable {
    public var postgresText: String? { String(self) }
}

extension Int64: PostgresEncodable {
    public var postgresText: String? { String(self) }
}

extension Int32: PostgresEncodable {
    public var postgresText: String? { String(self) }
}

extension Double: PostgresEncodable {
    public var postgresText: String? { "\(self)" }
}

extension Bool: PostgresEncodable {
    public var postgresText: String? { self ? "t" : "f" }
}

extension UUID: PostgresEncodable {
    public var postgresText: String? { uuidString.lowercased() }
}

extension Decimal: PostgresEncodable {
    public var postgresText: String? { isNaN ? "NaN" : description }
}

extension Date: PostgresEncodable {
    public var postgresText: String? { PostgresTimestamp.format(self) }
}

extension Data: PostgresEncodable {
    /// `bytea` in hex format.
    public var postgresText: String? {
        "\\x" + map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }
}

extension Optional: PostgresEncodable where Wrapped: PostgresEncodable {
    public var postgresText: String? { self?.postgresText }
}

extension Array: PostgresEncodable where Element: PostgresEncodable {
    /// A one-dimensional array literal, `{"a","b",NULL}`, for `= ANY($1)` and `unnest($1)`.
    /// Every element is quoted and escaped, so any text round-trips.
    public var postgresText: String? {
        let elements = map { element -> String in
            guard let text = element.postgresText else { return "NULL" }
            return "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        }
        return "{" + elements.joined(separator: ",") + "}"
    }
}
