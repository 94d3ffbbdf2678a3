import Synchronization

/// What a client knows about its server right now, from the statements it ran: the outcome
/// of the last one and when one last succeeded. Reading it never waits, so a readiness
/// probe answers at once even when every pooled connection is busy or a connect hangs.
///
/// Every statement and connection attempt of the client's pool records its outcome — two
/// relaxed atomic stores, no lock on the statement path. A client that runs nothing for a
/// while learns nothing new, which is why ``PostgresClient/probe(ifIdleFor:)`` exists.
public final class DatabaseHealth: Sendable {
    /// Instants are stored as nanoseconds since this one.
    private let origin = ContinuousClock.now
    /// When a statement last succeeded; -1 for never.
    private let lastSuccessNanoseconds = Atomic<Int64>(-1)
    private let lastOutcomeFailed = Atomic<Bool>(true)

    init() {}

    /// A statement or connection attempt succeeded.
    func succeeded(at instant: ContinuousClock.Instant = .now) {
        lastSuccessNanoseconds.store(nanoseconds(instant), ordering: .relaxed)
        lastOutcomeFailed.store(false, ordering: .relaxed)
    }

    /// The server could not be reached or the connection broke.
    func failed() {
        lastOutcomeFailed.store(true, ordering: .relaxed)
    }

    /// When a statement last succeeded, if ever.
    public var lastSuccess: ContinuousClock.Instant? {
        let stored = lastSuccessNanoseconds.load(ordering: .relaxed)
        return stored < 0 ? nil : origin + .nanoseconds(stored)
    }

    /// Whether the last outcome was a success that happened within `maximumAge` of `now`.
    public func isHealthy(maximumAge: Duration, now: ContinuousClock.Instant = .now) -> Bool {
        guard !lastOutcomeFailed.load(ordering: .relaxed), let last = lastSuccess else { return false }
        return now - last <= maximumAge
    }

    private func nanoseconds(_ instant: ContinuousClock.Instant) -> Int64 {
        let (seconds, attoseconds) = (instant - origin).components
        return max(0, seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
