import Foundation
import Postgres
import Testing

/// What a PostgreSQL error says about itself. Its description ends up in logs, in dead
/// letters' `x-mercato-error` header and, for some errors, in HTTP answers: it names what
/// failed (SQLSTATE, table, column, constraint), never the values involved.
@Suite(.needsPostgres, .timeLimit(.minutes(1)))
struct PostgresErrorTests {
    let client: PostgresClient

    init() throws {
        client = try Integration.makeClient()
    }

    @Test func aUniqueViolationNamesItsConstraintButNotTheValue() async throws {
        let table = uniqueTable("people")
        try await client.query("CREATE TABLE \(table) (id int PRIMARY KEY, email text NOT NULL CONSTRAINT \(table)_email UNIQUE)")
        try await client.query("INSERT INTO \(table) VALUES (1, $1)", "ada@example.com")
        let error = try await #require(throws: PostgresError.self) {
            try await client.query("INSERT INTO \(table) VALUES (2, $1)", "ada@example.com")
        }
        #expect(error.isUniqueViolation && error.isDataError)
        #expect(error.constraint == "\(table)_email")
        #expect(error.table == table)
        let text = "\(error)"
        #expect(!text.contains("ada@example.com"), "\(text)")
        #expect(text.contains("23505") && text.contains("\(table)_email") && text.contains(table), "\(text)")
        await client.shutdown()
    }

    @Test func aCheckViolationDoesNotShowTheRow() async throws {
        let table = uniqueTable("amounts")
        try await client.query("CREATE TABLE \(table) (secret text, amount int CONSTRAINT \(table)_positive CHECK (amount > 0))")
        let error = try await #require(throws: PostgresError.self) {
            try await client.query("INSERT INTO \(table) VALUES ($1, $2)", "s3cr3t-value", -5)
        }
        #expect(error.sqlState == "23514" && error.constraint == "\(table)_positive")
        #expect(!"\(error)".contains("s3cr3t-value"), "\(error)")
        await client.shutdown()
    }

    /// Data exceptions quote the input in their message ("invalid input syntax for type
    /// uuid: ..."): only the condition is kept.
    @Test func aDataExceptionDoesNotQuoteTheInput() async throws {
        let error = try await #require(throws: PostgresError.self) {
            try await client.query("SELECT $1::uuid", "ada@example.com")
        }
        #expect(error.sqlState == "22P02" && error.isDataError && !error.isTransient)
        #expect(!"\(error)".contains("ada@example.com"), "\(error)")
        #expect(!error.message.contains("ada@example.com"), "\(error.message)")
        await client.shutdown()
    }
}

/// Which errors are worth retrying, and which belong to the data written.
struct PostgresErrorClassificationTests {
    @Test(arguments: [
        (PostgresError(.connectionLost, "server closed the connection"), true, false),
        (PostgresError(.poolTimeout, "no connection"), true, false),
        (PostgresError(.queryFailed, "deadlock detected", sqlState: "40P01"), true, false),
        (PostgresError(.queryFailed, "duplicate key", sqlState: "23505"), false, true),
        (PostgresError(.queryFailed, "invalid input", sqlState: "22P02"), false, true),
        (PostgresError(.queryFailed, "syntax error", sqlState: "42601"), false, false),
    ])
    func classification(error: PostgresError, transient: Bool, data: Bool) {
        #expect(error.isTransient == transient)
        #expect(error.isDataError == data)
    }
}
