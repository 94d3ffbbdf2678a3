/// A call to another system that did not answer in time.
package struct DeadlineExceeded: Error, Sendable, Equatable, CustomStringConvertible {
    /// How long was waited.
    package var timeout: Duration

    package var description: String { "no answer within \(timeout)" }
}

/// `body`'s result, or ``DeadlineExceeded`` once `timeout` has passed on `clock` (and `body`
/// is cancelled): every call to a system outside Mercato's control is bounded.
package func withDeadline<T: Sendable, C: Clock>(
    _ timeout: Duration, clock: C, _ body: @escaping @Sendable () async throws -> T
) async throws -> T where C.Duration == Duration {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await clock.sleep(for: timeout)
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let result = first else { throw DeadlineExceeded(timeout: timeout) }
        return result
    }
}
