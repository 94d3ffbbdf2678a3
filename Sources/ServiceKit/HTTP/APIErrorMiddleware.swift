public import Hummingbird
import Logging
import Postgres

/// Answers every error as Mercato's JSON error body: ``APIError`` as it is, Hummingbird's
/// own errors (unknown route, wrong method) with their status, an unreachable database as
/// 503, and anything else as a 500 that logs the cause but does not leak it.
public struct APIErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    /// Creates the middleware.
    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            return try error.response(from: request, context: context)
        } catch let error as HTTPError {
            let code = error.status == .notFound ? "not_found" : "http_\(error.status.code)"
            let message = error.body ?? error.status.reasonPhrase
            return try APIError(status: error.status, code: code, message: message).response(
                from: request, context: context)
        } catch let error as PostgresError where error.isTransient {
            context.logger.warning("database unavailable", metadata: ["error.message": "\(error)"])
            return try APIError.unavailable("the database is unavailable; retry shortly").response(
                from: request, context: context)
        } catch {
            context.logger.error(
                "request failed", metadata: ["error.message": "\(error)", "http.path": "\(request.uri.path)"])
            return try APIError(
                status: .internalServerError, code: "internal_error", message: "the request failed; it was logged"
            )
            .response(from: request, context: context)
        }
    }
}
