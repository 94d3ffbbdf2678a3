public import Hummingbird
public import HummingbirdAuth
import NIOCore

#if canImport(Glibc)
    import Glibc
#endif

/// The request context of every Mercato service: Hummingbird's, plus the caller once its
/// bearer token has been verified.
public struct MercatoRequestContext: AuthRequestContext, RequestContext, ConnectionClosing {
    public var coreContext: CoreRequestContextStorage
    /// The verified caller; `nil` on the open routes (health, metrics, OpenAPI).
    public var identity: Caller?
    public let closeConnection: @Sendable () -> Void

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.identity = nil
        let channel = source.channel
        self.closeConnection = {
            // Linger 0: the close resets the connection at once, dropping what the kernel
            // still holds for a client that stopped reading (megabytes, on loopback).
            guard let socket = channel as? any SocketOptionProvider else { return channel.close(promise: nil) }
            socket.setSoLinger(linger(l_onoff: 1, l_linger: 0)).whenComplete { _ in channel.close(promise: nil) }
        }
    }
}
