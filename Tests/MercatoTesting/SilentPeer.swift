import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A TCP port on loopback that takes connections (the kernel completes the handshake into
/// the backlog) and never says a word: a client connecting to it blocks in its protocol
/// handshake, as it would with a server that hangs. ``close()`` resets the waiting
/// connections, which ends the client's wait.
public final class SilentPeer: Sendable {
    /// The port.
    public let port: Int
    private let descriptor: Int32

    /// Listens on a free port of 127.0.0.1.
    public init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard bound, listen(fd, 16) == 0 else {
            Glibc.close(fd)
            throw TestFailure("cannot listen on loopback: errno \(errno)")
        }
        descriptor = fd
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    /// Whether a client has connected (and waits in the backlog).
    public var hasConnection: Bool {
        var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        return poll(&poller, 1, 0) > 0
    }

    /// Stops listening; connections waiting in the backlog are reset.
    public func close() {
        Glibc.close(descriptor)
    }
}
