public import Hummingbird
public import HummingbirdAuth

/// Puts routes behind a bearer token with a scope: `guard.requiring(.ordersRead, on: router)`
/// is a group whose routes answer 401 without a valid token and 403 without the scope.
public struct AccessGuard: Sendable {
    private let verifier: TokenVerifier

    /// Creates a guard that verifies tokens with `verifier`.
    public init(verifier: TokenVerifier) {
        self.verifier = verifier
    }

    /// A group of `router` whose routes need a valid token carrying `scope`.
    public func requiring<Context: AuthRequestContext<Caller>>(_ scope: Scope, on router: some RouterMethods<Context>)
        -> RouterGroup<Context>
    {
        router.group()
            .add(middleware: BearerAuthenticator(verifier: verifier, context: Context.self))
            .add(
                middleware: AuthorizationPolicyMiddleware(
                    PermissionPolicy<Caller>(scope), deniedError: APIError.insufficientScope(scope),
                    context: Context.self))
    }
}

extension AccessGuard {
    /// A group of `router` whose routes need a valid token, whatever its scopes (the catalog:
    /// not a secret, but behind authentication like the rest of the API).
    public func authenticated<Context: AuthRequestContext<Caller>>(on router: some RouterMethods<Context>)
        -> RouterGroup<Context>
    {
        router.group()
            .add(middleware: BearerAuthenticator(verifier: verifier, context: Context.self))
            .add(middleware: IdentityRequired<Context>())
    }
}

/// Answers 401 when no bearer token was verified.
struct IdentityRequired<Context: AuthRequestContext<Caller>>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        guard context.identity != nil else { throw APIError.unauthenticated }
        return try await next(request, context)
    }
}

extension AuthRequestContext where Identity == Caller {
    /// The verified caller of a guarded route.
    public var caller: Caller {
        get throws {
            guard let identity else { throw APIError.unauthenticated }
            return identity
        }
    }
}
