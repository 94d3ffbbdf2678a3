/// An error from a ``Broker``.
public struct BrokerError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What kind of failure this is.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let value: String
        private init(_ value: String) { self.value = value }
        public var description: String { value }

        /// The broker could not be reached or refused the login.
        public static let connectionFailed = Code("connectionFailed")
        /// The connection was lost or closed while the operation was under way.
        public static let connectionClosed = Code("connectionClosed")
        /// The broker closed the channel, e.g. for a declaration that conflicts with an
        /// existing queue (`replyCode` 406) or an exchange that does not exist (404).
        public static let channelClosed = Code("channelClosed")
        /// A published message matched no queue (a `basic.return` for a mandatory publish).
        public static let unroutable = Code("unroutable")
        /// The broker refused responsibility for a published message (`basic.nack`).
        public static let nacked = Code("nacked")
        /// Some messages of a batch were not accepted; `failures` names each of them.
        public static let publishFailed = Code("publishFailed")
        /// No confirm arrived in time; the message may or may not have been accepted.
        public static let timeout = Code("timeout")
        /// The broker object was shut down.
        public static let shutdown = Code("shutdown")
        /// The delivery came over a connection that has since been replaced, so it can no
        /// longer be acknowledged; the broker redelivers it.
        public static let staleDelivery = Code("staleDelivery")
        /// The configuration (e.g. the URL) is not usable.
        public static let invalidConfiguration = Code("invalidConfiguration")
        /// The broker or the library broke the protocol.
        public static let protocolError = Code("protocolError")
    }

    /// One message of a batch that the broker did not accept.
    public struct Failure: Hashable, Sendable {
        /// The message's `message_id` (or `exchange/routing key` when it has none).
        public var messageID: String
        /// Why: ``Code/unroutable``, ``Code/nacked``, ``Code/channelClosed``.
        public var code: Code
        /// Details, e.g. the broker's reply text.
        public var reason: String

        /// A failure of the message `messageID`.
        public init(messageID: String, code: Code, reason: String) {
            self.messageID = messageID
            self.code = code
            self.reason = reason
        }
    }

    /// The kind of failure.
    public var code: Code
    /// A human-readable explanation.
    public var message: String
    /// The AMQP reply code, when the broker sent one (e.g. 312 NO_ROUTE, 404, 406).
    public var replyCode: Int?
    /// The message the error is about, if it is about one.
    public var messageID: String?
    /// For ``Code/publishFailed``: every message of the batch that failed.
    public var failures: [Failure]

    /// Creates an error.
    public init(
        _ code: Code, _ message: String, replyCode: Int? = nil, messageID: String? = nil, failures: [Failure] = []
    ) {
        self.code = code
        self.message = message
        self.replyCode = replyCode
        self.messageID = messageID
        self.failures = failures
    }

    public var description: String {
        var text = "BrokerError.\(code): \(message)"
        if let replyCode { text += " (reply code \(replyCode))" }
        if let messageID { text += " [message \(messageID)]" }
        return text
    }

    /// Whether retrying the same operation later may succeed (the broker was unreachable or
    /// the outcome is unknown), as opposed to a definite refusal.
    public var isTransient: Bool {
        [.connectionFailed, .connectionClosed, .timeout].contains(code)
    }
}
