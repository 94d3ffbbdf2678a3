import Locking

/// A one-shot event between a test and the code under test: ``fire()`` once, from any
/// thread; ``wait(_:timeout:)`` returns once it has fired (at once if it already has).
public final class OneShot: Sendable {
    private struct State {
        var fired = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Locked(State())

    /// Creates an event that has not fired.
    public init() {}

    /// Whether it has fired.
    public var hasFired: Bool { state.withLock { $0.fired } }

    /// Fires the event and wakes every waiter.
    public func fire() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.fired = true
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Waits until the event fires; throws a ``TestFailure`` naming `what` after `timeout`.
    public func wait(_ what: String, timeout: Duration = .seconds(30)) async throws {
        try await withDeadline(timeout, what) { await self.wait() }
    }

    private func wait() async {
        await withCheckedContinuation { continuation in
            let now = state.withLock { state -> Bool in
                if state.fired { return true }
                state.waiters.append(continuation)
                return false
            }
            if now { continuation.resume() }
        }
    }
}
