internal import CLibPQ
import Foundation

/// One libpq connection: every libpq call Mercato makes goes through this type, and every
/// libpq failure becomes a ``PostgresError`` here.
///
/// `@unchecked Sendable` because a `PGconn` must not be used by two threads at once: the
/// handle is owned by a single ``PostgresConnection`` actor, which runs on its own
/// `IOThreadExecutor` thread, where libpq's blocking calls are allowed.
final class PGConnectionHandle: @unchecked Sendable {
    private let connection: OpaquePointer
    private var finished = false

    /// Connects (blocking). `parameters` are libpq connection keywords; `dbname` may be a
    /// whole `postgres://` URI, which libpq expands.
    init(parameters: [(String, String)]) throws(PostgresError) {
        let keywords = parameters.map { strdup($0.0) } + [nil]
        let values = parameters.map { strdup($0.1) } + [nil]
        defer {
            keywords.forEach { free($0) }
            values.forEach { free($0) }
        }
        let connection = keywords.map { UnsafePointer($0) }.withUnsafeBufferPointer { keywordPointers in
            values.map { UnsafePointer($0) }.withUnsafeBufferPointer { valuePointers in
                PQconnectdbParams(keywordPointers.baseAddress, valuePointers.baseAddress, 1)
            }
        }
        guard let connection else {
            throw PostgresError(.connectionFailed, "libpq could not allocate a connection")
        }
        self.connection = connection
        guard PQstatus(connection) == CONNECTION_OK else {
            let message = Self.trimmed(PQerrorMessage(connection))
            PQfinish(connection)
            finished = true
            throw PostgresError(.connectionFailed, message)
        }
    }

    deinit {
        close()
    }

    /// Whether the connection is still believed to work.
    var isHealthy: Bool {
        !finished && PQstatus(connection) == CONNECTION_OK
    }

    /// Whether a transaction is open (or failed and awaiting ROLLBACK).
    var isInTransaction: Bool {
        let status = PQtransactionStatus(connection)
        return status == PQTRANS_INTRANS || status == PQTRANS_INERROR
    }

    /// The socket, for waiting until notifications arrive.
    var socketDescriptor: Int32 { PQsocket(connection) }

    /// Runs one statement with text parameters `$1…`, unprepared.
    func execute(_ sql: String, parameters: [String?]) throws(PostgresError) -> PostgresRows {
        let result = withParameters(parameters) { count, values in
            PQexecParams(connection, sql, count, nil, values, nil, nil, 0)
        }
        return try consume(result)
    }

    /// Prepares `sql` under `name` on this connection.
    func prepare(name: String, sql: String, parameterCount: Int) throws(PostgresError) {
        _ = try consume(PQprepare(connection, name, sql, Int32(parameterCount), nil))
    }

    /// Runs the statement prepared as `name`.
    func executePrepared(name: String, parameters: [String?]) throws(PostgresError) -> PostgresRows {
        let result = withParameters(parameters) { count, values in
            PQexecPrepared(connection, name, count, values, nil, nil, 0)
        }
        return try consume(result)
    }

    /// Runs SQL text that may hold several statements and no parameters (migrations, LISTEN).
    func executeScript(_ sql: String) throws(PostgresError) {
        _ = try consume(PQexec(connection, sql))
    }

    /// Whether the server sent something that has not been read. On an idle pooled
    /// connection that can only be a goodbye (a restart's "terminating connection"), which
    /// libpq would only notice at the next query.
    var hasUnreadInput: Bool {
        var descriptor = pollfd(fd: PQsocket(connection), events: Int16(POLLIN), revents: 0)
        return poll(&descriptor, 1, 0) != 0
    }

    /// Reads whatever the server sent without blocking; `false` if the connection broke.
    func consumeInput() -> Bool {
        PQconsumeInput(connection) == 1 && PQstatus(connection) == CONNECTION_OK
    }

    /// Notifications received so far, oldest first.
    func drainNotifications() -> [PostgresNotification] {
        var received: [PostgresNotification] = []
        while let notify = PQnotifies(connection) {
            received.append(
                PostgresNotification(
                    channel: String(cString: notify.pointee.relname),
                    payload: notify.pointee.extra.map { String(cString: $0) } ?? "",
                    processID: notify.pointee.be_pid))
            PQfreemem(notify)
        }
        return received
    }

    /// Closes the connection.
    func close() {
        guard !finished else { return }
        finished = true
        PQfinish(connection)
    }

    // MARK: - Results

    private func withParameters(
        _ parameters: [String?], _ body: (Int32, UnsafePointer<UnsafePointer<CChar>?>?) -> OpaquePointer?
    ) -> OpaquePointer? {
        let copies = parameters.map { $0.map { strdup($0) } ?? nil }
        defer { copies.forEach { free($0) } }
        return copies.map { UnsafePointer($0) }.withUnsafeBufferPointer { pointers in
            body(Int32(parameters.count), pointers.baseAddress)
        }
    }

    /// Copies a result into Swift values and frees it; throws for an error result.
    private func consume(_ result: OpaquePointer?) throws(PostgresError) -> PostgresRows {
        guard let result else {
            throw PostgresError(
                PQstatus(connection) == CONNECTION_OK ? .queryFailed : .connectionLost,
                Self.trimmed(PQerrorMessage(connection)))
        }
        defer { PQclear(result) }
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY:
            break
        default:
            let code: PostgresError.Code = PQstatus(connection) == CONNECTION_OK ? .queryFailed : .connectionLost
            // Never the DETAIL field ("D"): it quotes the values (see PostgresError).
            let sqlState = Self.field(result, "C")
            let message = Self.field(result, "M") ?? Self.trimmed(PQerrorMessage(connection))
            throw PostgresError(
                code, PostgresError.safeMessage(message, sqlState: sqlState), sqlState: sqlState,
                constraint: Self.field(result, "n"),
                table: Self.field(result, "t"), column: Self.field(result, "c"))
        }
        let columnCount = Int(PQnfields(result))
        let rowCount = Int(PQntuples(result))
        let columns = PostgresColumns((0..<columnCount).map { String(cString: PQfname(result, Int32($0))) })
        var rows: [PostgresRow] = []
        rows.reserveCapacity(rowCount)
        for row in 0..<Int32(rowCount) {
            var values: [String?] = []
            values.reserveCapacity(columnCount)
            for column in 0..<Int32(columnCount) {
                if PQgetisnull(result, row, column) == 1 {
                    values.append(nil)
                } else {
                    let length = Int(PQgetlength(result, row, column))
                    let pointer = UnsafeRawPointer(PQgetvalue(result, row, column)!)
                    values.append(
                        String(decoding: UnsafeRawBufferPointer(start: pointer, count: length), as: UTF8.self))
                }
            }
            rows.append(PostgresRow(columns: columns, values: values))
        }
        let affected = Int(String(cString: PQcmdTuples(result))) ?? rowCount
        return PostgresRows(rows: rows, affectedRows: affected)
    }

    private static func field(_ result: OpaquePointer, _ code: Character) -> String? {
        PQresultErrorField(result, Int32(code.asciiValue!)).map { String(cString: $0) }
    }

    private static func trimmed(_ message: UnsafePointer<CChar>?) -> String {
        guard let message else { return "unknown libpq error" }
        return String(cString: message).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
