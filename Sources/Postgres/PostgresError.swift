/// An error from PostgreSQL or from talking to it.
///
/// It names what failed — SQLSTATE, table, column, constraint — and never the values
/// involved: its description goes into logs, dead letters' headers and sometimes HTTP
/// answers. The server's DETAIL line (`Key (email)=(ada@example.com) already exists`,
/// `Failing row contains (…)`) is never read, and the message of a data exception (SQLSTATE
/// class 22, whose messages quote the input) is replaced by the name of its condition.
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
    /// The server's or library's message, without values (see the type's documentation).
    public var message: String
    /// The SQLSTATE, e.g. `23505` for a unique violation.
    public var sqlState: String?
    /// The violated constraint, if any.
    public var constraint: String?
    /// The table the error is about, if any.
    public var table: String?
    /// The column the error is about, if any.
    public var column: String?

    /// Creates an error.
    public init(
        _ code: Code, _ message: String, sqlState: String? = nil, constraint: String? = nil, table: String? = nil,
        column: String? = nil
    ) {
        self.code = code
        self.message = message
        self.sqlState = sqlState
        self.constraint = constraint
        self.table = table
        self.column = column
    }

    public var description: String {
        let names = [
            sqlState.map { "SQLSTATE \($0)" }, table.map { "table \($0)" }, column.map { "column \($0)" },
            constraint.map { "constraint \($0)" },
        ].compactMap { $0 }
        return "PostgresError.\(code): \(message)" + (names.isEmpty ? "" : " (\(names.joined(separator: ", ")))")
    }

    /// The server's primary message for `sqlState`, unless the condition is one whose
    /// messages quote the offending input (class 22, data exceptions): then the condition's
    /// name instead.
    static func safeMessage(_ message: String, sqlState: String?) -> String {
        guard let sqlState, sqlState.hasPrefix("22") else { return message }
        let conditions = [
            "22001": "string data right truncation", "22003": "numeric value out of range",
            "22007": "invalid datetime format",
            "22008": "datetime field overflow", "22012": "division by zero", "22021": "character not in repertoire",
            "22023": "invalid parameter value", "22P02": "invalid text representation",
            "22P05": "untranslatable character",
        ]
        return "data exception: \(conditions[sqlState] ?? "see SQLSTATE") (input not shown)"
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
