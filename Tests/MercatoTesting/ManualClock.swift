import Locking

/// A clock that moves only when a test says so: code under test sleeps on it, and the test
/// ``advance(by:)``s it past their deadlines, so timeouts are tested without waiting for them
/// and without wall-clock thresholds.
public final class ManualClock: Clock, Sendable {
    /// A point on the manual clock: the time advanced since it was created.
    public struct Instant: InstantProtocol, Sendable {
        /// Since the clock's start.
        public var offset: Duration

        public func advanced(by duration: Duration) -> Instant { Instant(offset: offset + duration) }
        public func duration(to other: Instant) -> Duration { other.offset - offset }
        public static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.offset < rhs.offset }
    }

    private struct Sleeper {
        let id: UInt64
        let deadline: Instant
        let continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var now = Instant(offset: .zero)
        var sleepers: [Sleeper] = []
        var nextID: UInt64 = 0
        var sleepsStarted = 0
    }

    private let state = Locked(State())

    /// Creates a clock at offset zero.
    public init() {}

    public var now: Instant { state.withLock { $0.now } }
    public var minimumResolution: Duration { .zero }

    /// How many sleeps are pending.
    public var pendingSleeps: Int { state.withLock { $0.sleepers.count } }

    /// How many sleeps were ever started (finished or not).
    public var sleepsStarted: Int { state.withLock { $0.sleepsStarted } }

    /// The earliest deadline of the pending sleeps, if any: lets a test tell a short sleep (a
    /// backoff) from a long one (a timeout) and wake only the one it means to.
    public var nextDeadline: Instant? { state.withLock { $0.sleepers.map(\.deadline).min() } }

    public func sleep(until deadline: Instant, tolerance: Duration? = nil) async throws {
        let id = state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let outcome = state.withLock { state -> Result<Void, any Error>? in
                    state.sleepsStarted += 1
                    if Task.isCancelled { return .failure(CancellationError()) }
                    if deadline <= state.now { return .success(()) }
                    state.sleepers.append(Sleeper(id: id, deadline: deadline, continuation: continuation))
                    return nil
                }
                if let outcome { continuation.resume(with: outcome) }
            }
        } onCancel: {
            let sleeper = state.withLock { state -> Sleeper? in
                guard let index = state.sleepers.firstIndex(where: { $0.id == id }) else { return nil }
                return state.sleepers.remove(at: index)
            }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Moves the clock forward and wakes every sleep whose deadline has come.
    public func advance(by duration: Duration) {
        let due = state.withLock { state -> [Sleeper] in
            state.now = state.now.advanced(by: duration)
            let now = state.now
            let due = state.sleepers.filter { $0.deadline <= now }
            state.sleepers.removeAll { $0.deadline <= now }
            return due
        }
        for sleeper in due { sleeper.continuation.resume() }
    }

    /// Waits until at least `count` sleeps are pending: the code under test has reached the
    /// point where it waits on the clock.
    public func waitForSleepers(_ count: Int = 1, timeout: Duration = .seconds(30)) async throws {
        try await waitUntil("\(count) sleep(s) on the manual clock", timeout: timeout, interval: .milliseconds(1)) {
            self.pendingSleeps >= count
        }
    }
}
