import Postgres
import Testing

/// Which errors are worth retrying, and which belong to the data written.
@Suite(.timeLimit(.minutes(1)))
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
