import Foundation
import Logging
import MercatoTesting
import Postgres

extension Integration {
    /// A client of the shared test database.
    static func makeClient(poolSize: Int = 4, applicationName: String = "postgres-tests") throws -> PostgresClient {
        var configuration = try PostgresClient.Configuration(url: databaseURL())
        configuration.poolSize = poolSize
        configuration.applicationName = applicationName
        return PostgresClient(configuration: configuration, logger: logger)
    }

    static var logger: Logger {
        var logger = Logger(label: "postgres-tests")
        logger.logLevel = .notice
        return logger
    }
}

/// A table name no other test uses.
func uniqueTable(_ prefix: String) -> String {
    uniqueName(prefix, separator: "_").replacingOccurrences(of: "test_", with: "t_")
}

/// Holds an iterator for a task that may outlive the caller's wait. `@unchecked Sendable`:
/// one task at a time uses it — the caller waits for each `next()` (or gives up on it at a
/// deadline and never touches the box again).
private final class IteratorBox: @unchecked Sendable {
    var iterator: PostgresListener.AsyncIterator
    init(_ iterator: PostgresListener.AsyncIterator) { self.iterator = iterator }
    func next() async -> PostgresNotification? { await iterator.next() }
}

/// The next notification of `iterator`, or a failure after `timeout`.
func next(_ iterator: inout PostgresListener.AsyncIterator, timeout: Duration = .seconds(30)) async throws
    -> PostgresNotification?
{
    let box = IteratorBox(iterator)
    defer { iterator = box.iterator }
    return try await withDeadline(timeout, "a notification") { await box.next() }
}
