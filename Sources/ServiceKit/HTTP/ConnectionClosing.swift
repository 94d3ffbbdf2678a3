/// A request context that can drop the connection its request came on.
///
/// A long-lived response (a Server-Sent Events stream) cannot otherwise be stopped while one
/// of its writes waits for a client that stopped reading: the write only returns once the
/// client reads. Closing the connection fails that write at once.
public protocol ConnectionClosing {
    /// Closes the request's connection; what was written and not sent is dropped.
    var closeConnection: @Sendable () -> Void { get }
}
