import Foundation
import MercatoTesting
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
        try await client.query(
            "CREATE TABLE \(table) (id int PRIMARY KEY, email text NOT NULL CONSTRAINT \(table)_email UNIQUE)")
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
        try await client.query(
            "CREATE TABLE \(table) (secret text, amount int CONSTRAINT \(table)_positive CHECK (amount > 0))")
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
