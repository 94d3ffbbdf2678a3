import Foundation
public import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// What `scripts/test` exports for the integration tests: the throwaway RabbitMQ and
/// PostgreSQL it started, and the script that controls them.
///
/// Integration tests are gated on these variables, positively: without them (a plain
/// `swift test` on a laptop) they are skipped. With `CI=true` they are not: a missing
/// variable is then a failure of the test that needs it, and `scripts/test` also fails any
/// run in which a test was skipped.
public enum Integration {
    /// The process environment.
    public static let environment = ProcessInfo.processInfo.environment

    /// Whether this is a CI run, where nothing may be skipped.
    public static var isCI: Bool { environment["CI"] == "true" }

    /// `AMQP_URL`: the test RabbitMQ.
    public static func amqpURL() throws -> String { try required("AMQP_URL") }

    /// `RABBITMQ_MANAGEMENT_URL`: its management API.
    public static func managementURL() throws -> String { try required("RABBITMQ_MANAGEMENT_URL") }

    /// `DATABASE_URL`: a database for tests that need one, shared by them.
    public static func databaseURL() throws -> String { try required("DATABASE_URL") }

    /// `MERCATO_POSTGRES_URL`: the test PostgreSQL server, without a database, for tests
    /// that create databases of their own.
    public static func postgresURL() throws -> String { try required("MERCATO_POSTGRES_URL") }

    private static func required(_ name: String) throws -> String {
        guard let value = environment[name], !value.isEmpty else {
            throw TestFailure(
                "\(name) is not set: run the tests with scripts/test, which starts RabbitMQ and PostgreSQL and exports it"
            )
        }
        return value
    }

    /// Ignores SIGPIPE in the test process, as the services' `main` does: a test that kills
    /// a server must see an error on its sockets, not end the test run.
    public static func ignoreBrokenPipes() {
        _ = ignoringBrokenPipes
    }

    private static let ignoringBrokenPipes: Void = {
        signal(SIGPIPE, SIG_IGN)
    }()

    /// Runs `scripts/infra ARGUMENTS…` (e.g. `rabbitmq kill`) and waits for it, at most
    /// `timeout`; a failure carries the end of what it printed.
    public static func infra(_ arguments: String..., timeout: Duration = .seconds(180)) async throws {
        let script = URL(fileURLWithPath: environment["MERCATO_INFRA"] ?? "scripts/infra")
        let result = try await runProcess(arguments, executable: script, mergingStandardError: true, timeout: timeout)
        guard result.status == 0 else {
            let tail = result.output.split(separator: "\n").suffix(20).joined(separator: "\n")
            throw TestFailure(
                "scripts/infra \(arguments.joined(separator: " ")) exited with \(result.status):\n\(tail)")
        }
    }
}

extension Trait where Self == ConditionTrait {
    /// Runs against the RabbitMQ that `scripts/test` starts; never skipped in CI.
    public static var needsRabbitMQ: Self {
        .enabled(if: Integration.environment["AMQP_URL"] != nil || Integration.isCI, "needs AMQP_URL: run scripts/test")
    }

    /// Runs against the PostgreSQL that `scripts/test` starts; never skipped in CI.
    public static var needsPostgres: Self {
        .enabled(
            if: Integration.environment["DATABASE_URL"] != nil && Integration.environment["MERCATO_POSTGRES_URL"] != nil
                || Integration.isCI,
            "needs DATABASE_URL and MERCATO_POSTGRES_URL: run scripts/test")
    }

    /// Runs against both, with the services' executables; never skipped in CI.
    public static var needsSystem: Self {
        .enabled(
            if: Integration.environment["AMQP_URL"] != nil && Integration.environment["MERCATO_POSTGRES_URL"] != nil
                || Integration.isCI,
            "needs AMQP_URL and MERCATO_POSTGRES_URL: run scripts/test")
    }
}

/// A name no other test (or earlier run) uses: `prefix` and eight random hex digits.
public func uniqueName(_ prefix: String, separator: String = ".") -> String {
    "test\(separator)\(prefix)\(separator)\(UUID().uuidString.prefix(8).lowercased())"
}
