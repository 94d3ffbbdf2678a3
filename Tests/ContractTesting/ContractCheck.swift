package import Foundation
import Testing

/// One behaviour of a contract, checked against a fresh subject (a repository, a store).
/// Contracts are lists of checks; a test target runs each as a case of one parameterized
/// test, against the real implementation or the in-memory one.
package struct ContractCheck<Subject>: Sendable, CustomTestStringConvertible {
    /// What the check shows.
    package let name: String
    /// The check.
    package let run: @Sendable (Subject) async throws -> Void

    /// Creates a check.
    package init(_ name: String, _ run: @escaping @Sendable (Subject) async throws -> Void) {
        self.name = name
        self.run = run
    }

    package var testDescription: String { name }
}

/// Now, to the millisecond: what every store keeps exactly (PostgreSQL keeps microseconds,
/// a `Date` more).
package func millisecondNow(plus seconds: Double = 0) -> Date {
    Date(timeIntervalSince1970: ((Date().timeIntervalSince1970 + seconds) * 1000).rounded() / 1000)
}

/// Whether two instants are the same to the microsecond.
package func sameInstant(_ a: Date?, _ b: Date?) -> Bool {
    guard let a, let b else { return a == nil && b == nil }
    return abs(a.timeIntervalSince1970 - b.timeIntervalSince1970) < 0.000_001
}

/// A W3C trace context for events under test.
package let testTraceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
