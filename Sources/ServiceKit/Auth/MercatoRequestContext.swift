public import Hummingbird
public import HummingbirdAuth

/// The request context of every Mercato service: Hummingbird's, plus the caller once its
/// bearer token has been verified.
public struct MercatoRequestContext: AuthRequestContext, RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The verified caller; `nil` on the open routes (health, metrics, OpenAPI).
    public var identity: Caller?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.identity = nil
    }
}
