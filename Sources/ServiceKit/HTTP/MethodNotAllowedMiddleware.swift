import Foundation
public import Hummingbird

/// Answers `405 Method Not Allowed`, with an `Allow` header, for a path the service serves
/// but not with the request's method. Hummingbird's router answers 404 for both; clients
/// (and HTTP) tell "no such resource" from "not that way".
///
/// The routes come from the service's OpenAPI document, which tests check against the real
/// routes, so the two cannot drift apart.
public struct MethodNotAllowedMiddleware<Context: RequestContext>: RouterMiddleware {
    struct Route {
        /// Path segments; `nil` is a `{parameter}`.
        var segments: [String?]
        var methods: Set<String>

        func matches(_ path: [Substring]) -> Bool {
            path.count == segments.count && zip(segments, path).allSatisfy { $0 == nil || $0! == $1 }
        }
    }

    private let routes: [Route]

    /// Reads the routes from `openAPI`, an OpenAPI document in JSON.
    public init(openAPI: [UInt8]) {
        let document = (try? JSONSerialization.jsonObject(with: Data(openAPI))) as? [String: Any]
        let paths = document?["paths"] as? [String: [String: Any]] ?? [:]
        let verbs: Set<String> = ["get", "put", "post", "delete", "options", "head", "patch", "trace"]
        routes = paths.map { path, operations in
            Route(
                segments: path.split(separator: "/").map { $0.hasPrefix("{") ? nil : String($0) },
                methods: Set(operations.keys.filter(verbs.contains).map { $0.uppercased() }))
        }
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        let path = request.uri.path.split(separator: "/")
        // A literal route and a parameter route may both match (`/orders/export`, `/orders/{id}`).
        let methods = routes.filter { $0.matches(path) }.reduce(into: Set<String>()) { $0.formUnion($1.methods) }
        guard !methods.isEmpty, !methods.contains(request.method.rawValue) else {
            return try await next(request, context)
        }
        let allowed = methods.sorted().joined(separator: ", ")
        var response = try APIError(
            status: .methodNotAllowed, code: "method_not_allowed",
            message: "\(request.method.rawValue) is not allowed here; use \(allowed)"
        ).response(from: request, context: context)
        response.headers[.allow] = allowed
        return response
    }
}
