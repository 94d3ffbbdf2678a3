import Contracts
import Foundation
public import Hummingbird

/// An error answered to an HTTP client as
/// `{"error": {"code": "...", "message": "...", "field": "..."}}`.
public struct APIError: Error, HTTPResponseError, Sendable, Equatable {
    /// The HTTP status.
    public var status: HTTPResponse.Status
    /// A stable, machine-readable code, e.g. `validation_failed`.
    public var code: String
    /// What went wrong, for humans.
    public var message: String
    /// The offending request field, e.g. `items[0].quantity`, when there is one.
    public var field: String?
    /// The `WWW-Authenticate` challenge of a 401 or 403 (RFC 6750), when there is one.
    public var challenge: String?
    /// Seconds to wait before retrying (`Retry-After`); a 503 without it says 1.
    public var retryAfter: Int?

    /// Creates an error.
    public init(
        status: HTTPResponse.Status, code: String, message: String, field: String? = nil, challenge: String? = nil,
        retryAfter: Int? = nil
    ) {
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.challenge = challenge
        self.retryAfter = retryAfter
    }

    /// 401: no bearer token. RFC 6750 3.1: the challenge names no error when the request
    /// carried no credentials at all.
    public static let unauthenticated = APIError(
        status: .unauthorized, code: "unauthenticated",
        message: "this operation needs a bearer token (Authorization: Bearer …)",
        challenge: #"Bearer realm="mercato""#)

    /// 401: a token that is malformed, expired, not yet valid, not ours or not correctly
    /// signed; which of these is never said.
    public static let invalidToken = APIError(
        status: .unauthorized, code: "invalid_token", message: "the bearer token is not valid",
        challenge: #"Bearer realm="mercato", error="invalid_token""#)

    /// 403: a valid token without the scope the operation needs.
    public static func insufficientScope(_ scope: Scope) -> APIError {
        APIError(
            status: .forbidden, code: "insufficient_scope", message: "this operation needs the scope \(scope)",
            challenge: #"Bearer realm="mercato", error="insufficient_scope", scope="\#(scope)""#)
    }

    /// 403: a valid token with the scope, acting on a customer that is not the caller.
    public static func forbidden(_ field: String, _ message: String) -> APIError {
        APIError(status: .forbidden, code: "forbidden", message: message, field: field)
    }

    /// 400: the body is not JSON, or not the JSON value expected.
    public static func malformedJSON(_ message: String) -> APIError {
        APIError(status: .badRequest, code: "malformed_json", message: message)
    }

    /// 400: a query parameter or path segment is unusable.
    public static func badParameter(_ field: String, _ message: String) -> APIError {
        APIError(status: .badRequest, code: "invalid_parameter", message: message, field: field)
    }

    /// 422: a field is missing or its value is not acceptable.
    public static func invalid(_ field: String, _ message: String) -> APIError {
        APIError(status: .unprocessableContent, code: "validation_failed", message: message, field: field)
    }

    /// 404: no such resource.
    public static func notFound(_ what: String) -> APIError {
        APIError(status: .notFound, code: "not_found", message: "\(what) not found")
    }

    /// 409: the request conflicts with what exists.
    public static func conflict(_ code: String, _ message: String, field: String? = nil) -> APIError {
        APIError(status: .conflict, code: code, message: message, field: field)
    }

    /// 503: a dependency is unavailable; retrying later may succeed.
    public static func unavailable(_ message: String) -> APIError {
        APIError(status: .serviceUnavailable, code: "service_unavailable", message: message)
    }

    struct Body: Encodable {
        struct Details: Encodable {
            var code: String
            var message: String
            var field: String?
        }
        var error: Details
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var response = try JSONResponse.make(
            Body(error: .init(code: code, message: message, field: field)), status: status)
        if let retryAfter {
            response.headers[.retryAfter] = String(retryAfter)
        } else if status == .serviceUnavailable {
            response.headers[.retryAfter] = "1"
        }
        if let challenge { response.headers[.wwwAuthenticate] = challenge }
        return response
    }
}
