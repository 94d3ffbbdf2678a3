import Foundation
import MercatoTesting
import Testing

/// `mercato` against servers that are not there: each failure is one line that says what
/// failed and where, without the password of the URL it was given.
@Suite(.timeLimit(.minutes(2)))
struct FailureMessageTests {
    /// Where the executable is: `MERCATO_BIN_DIR` (scripts/test), else the debug build.
    static var mercato: URL {
        let directory =
            ProcessInfo.processInfo.environment["MERCATO_BIN_DIR"].map { URL(fileURLWithPath: $0) }
            ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
            .appendingPathComponent(".build/debug")
        return directory.appendingPathComponent("mercato")
    }

    /// A port nothing listens on: connections to it are refused at once.
    static let closed = "127.0.0.1:1"

    /// Runs `mercato ARGUMENTS…` with an environment that points nowhere else, and returns its
    /// exit status and every line it printed (standard output and error).
    func run(_ arguments: [String]) async throws -> (Int32, [String]) {
        var environment = ProcessInfo.processInfo.environment
        for name in ["AMQP_URL", "RABBITMQ_MANAGEMENT_URL", "MERCATO_TOKEN", "AUTH_JWT_SECRET", "AUTH_JWT_SECRET_FILE"]
        { environment[name] = nil }
        let result = try await runProcess(
            arguments, executable: Self.mercato, environment: environment, mergingStandardError: true,
            timeout: .seconds(60))
        return (result.status, result.output.split(separator: "\n").map(String.init))
    }

    @Test(arguments: [
        (
            ["topology", "--management-url", "http://admin:s3cret@\(closed)"],
            ["the management API at http://\(closed)"]
        ),
        (["topology", "apply", "--amqp-url", "amqp://admin:s3cret@\(closed)/%2F"], ["RabbitMQ", closed]),
        (
            ["dlq", "list", "--management-url", "http://admin:s3cret@\(closed)"],
            ["the management API at http://\(closed)"]
        ),
        (
            ["dlq", "show", "q", "--management-url", "http://admin:s3cret@\(closed)"],
            ["the management API at http://\(closed)"]
        ),
        (
            [
                "dlq", "replay", "q", "--timeout", "1", "--amqp-url", "amqp://admin:s3cret@\(closed)/%2F",
                "--management-url", "http://admin:s3cret@\(closed)",
            ],
            [closed]
        ),
        (
            [
                "load", "--count", "1", "--quiet", "--token", "t", "--order-url", "http://\(closed)", "--customer-url",
                "http://\(closed)", "--invoice-url",
                "http://\(closed)",
            ],
            [closed]
        ),
        (["token", "--sub", "operator", "--secret-file", "/nonexistent/jwt-secret"], ["/nonexistent/jwt-secret"]),
        (["audit", "--no-broker", "--database-url", "postgres://mercato_auditor:s3cret@\(closed)"], [closed]),
    ])
    func aFailureIsOneLineNamingWhatFailedAndWhere(arguments: [String], names places: [String]) async throws {
        let (status, lines) = try await run(arguments)
        let command = "mercato " + arguments.joined(separator: " ")
        #expect(status == 1, "\(command) exited \(status)")
        #expect(lines.count == 1, "\(command) printed \(lines.count) lines:\n\(lines.joined(separator: "\n"))")
        let line = lines.first ?? ""
        #expect(line.hasPrefix("mercato: "), "\(command): \(line)")
        for place in places { #expect(line.contains(place), "\(command): \(line) does not name \(place)") }
        #expect(!line.contains("s3cret"), "\(command) printed the password: \(line)")
        #expect(!line.contains("Error Domain") && !line.contains("UserInfo"), "\(command): \(line)")
    }
}
