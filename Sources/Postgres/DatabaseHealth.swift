import Locking

/// What a client knows about its server right now, from the statements it ran: the outcome
/// of the last one and when one last succeeded. Reading it never waits, so a readiness
/// probe answers at once even when every pooled connection is busy or a connect hangs.
///
/// Every statement and connection attempt of the client's pool records its outcome; a
/// client that runs nothing for a while learns nothing new, which is why
/// ``PostgresClient/probe()`` exists.
public final class DatabaseHealth: Sendable {
    private struct State {
        var lastSuccess: ContinuousClock.Instant?
        var lastOutcomeFailed = true
    }

    private let state = Locked(State())

    init() {}

    /// A statement or connection attempt succeeded.
    func succeeded(at instant: ContinuousClock.Instant = .now) {
        state.withLock { state in
            state.lastSuccess = instant
            state.lastOutcomeFailed = false
        }
    }

    /// The server could not be reached or the connection broke.
    func failed() {
        state.withLock { $0.lastOutcomeFailed = true }
    }

    /// When a statement last succeeded, if ever.
    public var lastSuccess: ContinuousClock.Instant? { state.withLock { $0.lastSuccess } }

    /// Whether the last outcome was a success that happened within `maximumAge` of `now`.
    public func isHealthy(maximumAge: Duration, now: ContinuousClock.Instant = .now) -> Bool {
        state.withLock { state in
            guard !state.lastOutcomeFailed, let last = state.lastSuccess else { return false }
            return now - last <= maximumAge
        }
    }
}
