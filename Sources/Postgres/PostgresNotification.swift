/// A `NOTIFY` received on a listened-to channel.
public struct PostgresNotification: Sendable, Hashable {
    /// The channel it was sent on.
    public var channel: String
    /// Its payload (empty when none was given).
    public var payload: String
    /// The server process that sent it.
    public var processID: Int32
}
