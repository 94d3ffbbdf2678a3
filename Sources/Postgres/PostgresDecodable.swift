public import Foundation

/// A Swift value that a result column can be decoded into, from PostgreSQL's text format.
public protocol PostgresDecodable: Sendable {
    /// Decodes a non-NULL value.
    init(postgresText text: String) throws(PostgresError)
    /// The value for SQL `NULL`; only optionals have one.
    static var postgresNull: Self? { get }
}

extension PostgresDecodable {
    public static var postgresNull: Self? { nil }
}

/// Names the type and the value's length, not the value: errors end up in logs and dead
/// letters, and a column's value may be private (see ``PostgresError``).
private func mismatch<T>(_ text: String, _ type: T.Type) -> PostgresError {
    PostgresError(.decodingFailed, "cannot decode a value of \(text.utf8.count) bytes as \(type)")
}

extension String: PostgresDecodable {
    public init(postgresText text: String) { self = text }
}

extension Int: PostgresDecodable {
    public init(postgresText text: String) throws(PostgresError) {
        guard let value = Int(text) else { throw mismatch(text, Int.self) }
        self = value
    }
}

extension Int64: PostgresDecodable {
    public init(postgresText text: String) throws(PostgresError) {
        guard let value = Int64(text) else { throw mismatch(text, Int64.self) }
        self = value
    }
}

extension Int32: PostgresDecodable {
    public init(postgresText text: String) throws(PostgresError) {
        guard let value = Int32(text) else { throw mismatch(text, Int32.self) }
        self = value
    }
}

extension Double: PostgresDecodable {
    public init(postgresText text: String) throws(PostgresError) {
        guard let value = Double(text) else { throw mismatch(text, Double.self) }
        self = value
    }
}

extension Bool: PostgresDecodable {
    public init(postgresText text: String) throws(PostgresError) {
        switch text {
        case "t", "true": self = true
        case "f", "false": self = false
        default: throw mismatch(text, Bool.self)
        }
    }
}

extension UUID: PostgresDecodable {
    public init(postgresText text: String) throws(PostgresError) {
        guard let value = UUID(uuidString: text) else { throw mismatch(text, UUID.self) }
        self = value
    }
}

extension Decimal: PostgresDecodable {
    /// Decodes `numeric` exactly. Foundation's `Decimal` holds 38 significant digits; a value
    /// with more is refused rather than rounded (decode it as `String` instead).
    public init(postgresText text: String) throws(PostgresError) {
        if text == "NaN" {
            self = .nan
            return
        }
        let digits = text.drop { $0 == "-" || $0 == "0" || $0 == "." }.filter(\.isNumber).count
        guard digits <= 38, let value = Decimal(string: text, locale: Locale(identifier: "en_US_POSIX")) else {
            throw PostgresError(.decodingFailed, "a numeric of \(digits) digits does not fit Decimal's 38")
        }
        self = value
    }
}

extension Date: PostgresDecodable {
    public init(postgresText text: String) throws(PostgresError) {
        guard let value = PostgresTimestamp.parse(text) else { throw mismatch(text, Date.self) }
        self = value
    }
}

extension Data: PostgresDecodable {
    /// Decodes `bytea` in hex format.
    public init(postgresText text: String) throws(PostgresError) {
        guard text.hasPrefix("\\x"), text.count % 2 == 0 else { throw mismatch(text, Data.self) }
        var bytes = [UInt8]()
        bytes.reserveCapacity(text.count / 2 - 1)
        var index = text.index(text.startIndex, offsetBy: 2)
        while index < text.endIndex {
            let next = text.index(index, offsetBy: 2)
            guard let byte = UInt8(text[index..<next], radix: 16) else { throw mismatch(text, Data.self) }
            bytes.append(byte)
            index = next
        }
        self = Data(bytes)
    }
}

extension Optional: PostgresDecodable where Wrapped: PostgresDecodable {
    public init(postgresText text: String) throws(PostgresError) {
        self = .some(try Wrapped(postgresText: text))
    }

    public static var postgresNull: Self? { .some(nil) }
}
