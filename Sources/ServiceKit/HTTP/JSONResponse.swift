import Contracts
import Foundation
public import Hummingbird

/// JSON responses with Mercato's conventions: snake_case keys (from the types' coding keys),
/// lowercase UUIDs, RFC 3339 timestamps and money as strings.
public enum JSONResponse {
    /// JSONEncoder is safe to use from many tasks at once once configured.
    private static let encoder = EventCoding.makeEncoder()

    /// `value` as a JSON response with `status`.
    public static func make<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) throws -> Response {
        let data = try encoder.encode(value)
        return Response(
            status: status,
            headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
