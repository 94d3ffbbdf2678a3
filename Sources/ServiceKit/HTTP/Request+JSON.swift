import Contracts
import Foundation
public import Hummingbird
import NIOCore

extension Request {
    /// Decodes the JSON body as `T`, answering bad input with the right client error:
    /// 415 for another content type, 413 for a body over `limit` bytes, 400 for a body that
    /// could not be read or is malformed JSON, and 422 naming the field for a missing,
    /// mistyped or unacceptable value.
    public func decodeJSON<T: Decodable>(_ type: T.Type, limit: Int) async throws -> T {
        let contentType = headers[.contentType]?.lowercased() ?? ""
        guard
            contentType.hasPrefix("application/json")
                || contentType.hasPrefix("application/") && contentType.contains("+json")
        else {
            throw APIError(
                status: .unsupportedMediaType, code: "unsupported_media_type",
                message: "send the body as application/json"
                    + (contentType.isEmpty ? "" : ", not \(contentType.prefix(60))"))
        }
        let buffer: ByteBuffer
        do {
            buffer = try await body.collect(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw APIError(
                status: .contentTooLarge, code: "payload_too_large", message: "the body is larger than \(limit) bytes")
        } catch let error where error is CancellationError || error is any HTTPResponseError {
            throw error
        } catch {
            // The client's stream broke (a connection reset mid-body, a bad chunk): not its size.
            throw APIError(status: .badRequest, code: "body_unreadable", message: "the request body could not be read")
        }
        do {
            return try Self.decoder.decode(T.self, from: Data(buffer.readableBytesView))
        } catch let error as DecodingError {
            throw APIError(decoding: error)
        }
    }

    private static let decoder = EventCoding.makeDecoder()
}

extension APIError {
    /// Turns a decoding failure into 400 (not JSON, or not an object) or 422 (a field).
    public init(decoding error: DecodingError) {
        func path(_ codingPath: [any CodingKey], _ last: (any CodingKey)? = nil) -> String {
            var text = ""
            for key in codingPath + (last.map { [$0] } ?? []) {
                if let index = key.intValue {
                    text += "[\(index)]"
                } else {
                    text += (text.isEmpty ? "" : ".") + key.stringValue
                }
            }
            return text
        }
        switch error {
        case .keyNotFound(let key, let context):
            self = .invalid(path(context.codingPath, key), "is required")
        case .valueNotFound(_, let context):
            self = .invalid(path(context.codingPath), "must not be null")
        case .typeMismatch(let expected, let context) where !context.codingPath.isEmpty:
            self = .invalid(path(context.codingPath), "must be \(Self.describe(expected))")
        case .typeMismatch:
            self = .malformedJSON("the body must be a JSON object")
        case .dataCorrupted(let context) where !context.codingPath.isEmpty:
            self = .invalid(path(context.codingPath), context.debugDescription)
        case .dataCorrupted:
            self = .malformedJSON("the body is not valid JSON")
        @unknown default:
            self = .malformedJSON("the body could not be read")
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Int.Type, is Int64.Type, is Int32.Type: return "an integer"
        case is Bool.Type: return "true or false"
        case is Double.Type, is Decimal.Type: return "a number"
        case is [Any].Type: return "an array"
        default:
            let name = "\(type)"
            if name.hasPrefix("Array") { return "an array" }
            if name.hasPrefix("Dictionary") { return "an object" }
            return "a valid \(name)"
        }
    }
}
