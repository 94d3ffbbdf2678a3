/// An error from PostgreSQL or from talking to it.
public struct PostgresError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What kind of failure this is.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let value: String
        private init(_ value: String) { self.value = value }
        public var description: String { value }

        /// The server could not be reached or refused the connection.
        public static let connectionFailed = Code("connectionFailed")
        /// The connection broke; a statement under way may or may not have run.
        public static let connectionLost = Code("connectionLost")
        /// The server refused the statement; see ``PostgresError/sqlState``.
        public static let queryFailed = Code("queryFailed")
        /// A value could not be decoded as the requested type.
        public static let decodingFailed = Code("decodingFailed")
        /// No pooled connection became free in time.
        public static let poolTimeout = Code("poolTimeout")
        /// The client was shut down.
        public static let shutdown = Code("shutdown")
        /// The configuration (e.g. the URL) is not usable.
        public static let invalidConfiguration = Code("invalidConfiguration")
    }

    /// The kind of failure.
    public var code: Code
    /// The server's or library's message.
    public var message: String
    /// The SQLSTATE, e.g. `23505` for a unique violation.
    public var sqlState: String?
    /// The server's detail line, if any.
    public var detail: String?
    /// The violated constraint, if any.
    public var constraint: String?

    /// Creates an error.
    public init(_ code: Code, _ message: String, sqlState: String? = nil, detail: String? = nil, constraint: String? = nil) {
        self.code = code
        self.message = message
        self.sqlState = sqlState
        self.detail = detail
        self.constraint = constraint
    }

    public var description: String {
        var text = "PostgresError.\(code): \(message)"
        if let sqlState { text += " (SQLSTATE \(sqlState))" }
        if let detail { text += " — \(detail)" }
        return text
    }

    /// A unique or primary-key constraint was violated (SQLSTATE 23505).
    public var isUniqueViolation: Bool { sqlState == "23505" }

    /// The server refused the statement's data: an integrity constraint (SQLSTATE class 23:
    /// unique, foreign key, check, not null) or a data exception (class 22: a value out of
    /// range, malformed input). Such an error belongs to the rows written, not to the
    /// server: the same statement with other rows may well succeed.
    public var isDataError: Bool {
        code == .queryFailed && (sqlState?.hasPrefix("23") == true || sqlState?.hasPrefix("22") == true)
    }

    /// Running the same transaction again may succeed: the connection was lost, or the
    /// server aborted it for a serialization failure or deadlock.
    public var isTransient: Bool {
        code == .connectionFailed || code == .connectionLost || code == .poolTimeout
            || sqlState == "40001" || sqlState == "40P01" || sqlState?.hasPrefix("08") == true
            || sqlState == "57P01" || sqlState == "57P02" || sqlState == "57P03"
    }
}
