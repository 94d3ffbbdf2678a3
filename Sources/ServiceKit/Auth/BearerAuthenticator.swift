public import Hummingbird
public import HummingbirdAuth
import Logging

/// Turns an `Authorization: Bearer …` header into the request's ``Caller``, and refuses the
/// request (401) when there is none or it does not verify. It guards route groups, so the
/// open routes never see it.
public struct BearerAuthenticator<Context: AuthRequestContext<Caller>>: AuthenticatorMiddleware {
    public typealias Identity = Caller

    private let verifier: TokenVerifier

    /// Creates the authenticator.
    public init(verifier: TokenVerifier, context: Context.Type = Context.self) {
        self.verifier = verifier
    }

    public func authenticate(request: Request, context: Context) async throws -> Caller? {
        guard let header = request.headers[.authorization] else { throw APIError.unauthenticated }
        // RFC 6750: the scheme is case-insensitive, the token follows one space.
        guard header.count > 7, header.prefix(7).lowercased() == "bearer " else { throw APIError.invalidToken }
        do {
            return try await verifier.verify(String(header.dropFirst(7)))
        } catch {
            // Why is for the operator (debug level), never for the client.
            context.logger.debug("bearer token refused", metadata: ["auth.reason": "\(error)"])
            throw APIError.invalidToken
        }
    }
}
