/// A value in an AMQP field table: message headers and queue arguments.
///
/// Covers what RabbitMQ sends and what Mercato sets, including the nested `x-death` header
/// (an array of tables) that RabbitMQ adds to every dead-lettered message.
public enum HeaderValue: Hashable, Sendable, CustomStringConvertible {
    case string(String)
    case int(Int64)
    case bool(Bool)
    case double(Double)
    case bytes([UInt8])
    case timestamp(UInt64)
    case array([HeaderValue])
    case table([String: HeaderValue])
    case void

    /// The value as a string, when it is one.
    public var stringValue: String? {
        if case .string(let value) = self { return value }
        if case .bytes(let value) = self { return String(decoding: value, as: UTF8.self) }
        return nil
    }

    /// The value as an integer, when it is one.
    public var intValue: Int64? {
        switch self {
        case .int(let value): return value
        case .timestamp(let value): return Int64(clamping: value)
        case .string(let value): return Int64(value)
        default: return nil
        }
    }

    public var description: String {
        switch self {
        case .string(let value): return value
        case .int(let value): return String(value)
        case .bool(let value): return String(value)
        case .double(let value): return String(value)
        case .bytes(let value): return "<\(value.count) bytes>"
        case .timestamp(let value): return "@\(value)"
        case .array(let values): return "[" + values.map(\.description).joined(separator: ", ") + "]"
        case .table(let table):
            return "{" + table.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ") + "}"
        case .void: return "void"
        }
    }
}

extension HeaderValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
}
