import Foundation
import Logging
import Postgres
import Testing

/// What `scripts/test` exports: the throwaway PostgreSQL it started.
enum Integration {
    static let environment = ProcessInfo.processInfo.environment
    static let databaseURL = environment["DATABASE_URL"]
    static let infraScript = environment["MERCATO_INFRA"]

    static func makeClient(poolSize: Int = 4, applicationName: String = "postgres-tests") throws -> PostgresClient {
        var configuration = try PostgresClient.Configuration(url: databaseURL ?? "postgres://localhost/mercato_test")
        configuration.poolSize = poolSize
        configuration.applicationName = applicationName
        return PostgresClient(configuration: configuration, logger: logger)
    }

    static var logger: Logger {
        var logger = Logger(label: "postgres-tests")
        logger.logLevel = .notice
        return logger
    }

    /// Runs `scripts/infra ARGS…` (e.g. `postgres restart`) and waits for it.
    static func infra(_ arguments: String...) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: infraScript ?? "scripts/infra")
        process.arguments = arguments
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw TestFailure("scripts/infra \(arguments.joined(separator: " ")) exited with \(process.terminationStatus)")
        }
    }
}

extension Trait where Self == ConditionTrait {
    /// Runs the test only against the PostgreSQL that `scripts/test` starts.
    static var needsPostgres: Self {
        .enabled(if: Integration.databaseURL != nil, "needs DATABASE_URL: run scripts/test")
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A table name no other test uses.
func uniqueTable(_ prefix: String) -> String {
    "t_\(prefix)_\(UUID().uuidString.prefix(8).lowercased())"
}
