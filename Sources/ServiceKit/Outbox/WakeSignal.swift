import Locking

/// A level-triggered wake-up: ``signal()`` any number of times, and the next ``wait(timeout:)``
/// returns at once; with no signal pending, `wait` sleeps until one comes or the timeout.
///
/// One waiter at a time (the loop that owns the signal). Timeouts are measured on `clock`
/// (tests give it a manual one).
public final class WakeSignal<C: Clock>: Sendable where C.Duration == Duration {
    private struct Waiter {
        var deadline: C.Instant
        var continuation: CheckedContinuation<Void, Never>
    }

    private struct State {
        var pending = false
        var waiter: Waiter?
        /// When the timer task wakes next, if it runs: one timer for the signal, not one per
        /// wait. A `Task.sleep` cancelled because a signal came first keeps its timer until
        /// its deadline, and a relay under load waits hundreds of times a second.
        var timerWakes: C.Instant?
    }

    private let state = Locked(State())
    private let clock: C

    /// Creates a signal whose timeouts run on `clock`.
    public init(clock: C) {
        self.clock = clock
    }

    /// Wakes the waiter, or the next one to wait.
    public func signal() {
        let waiter = state.withLock { state -> Waiter? in
            guard let waiter = state.waiter else {
                state.pending = true
                return nil
            }
            state.waiter = nil
            return waiter
        }
        waiter?.continuation.resume()
    }

    /// Returns when signalled, after `timeout`, or when the task is cancelled.
    public func wait(timeout: Duration) async {
        let deadline = clock.now.advanced(by: timeout)
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let (now, startTimer) = state.withLock { state -> (Bool, Bool) in
                    if state.pending || Task.isCancelled {
                        state.pending = false
                        return (true, false)
                    }
                    state.waiter = Waiter(deadline: deadline, continuation: continuation)
                    // A timer that wakes by the deadline serves this wait too.
                    if let wakes = state.timerWakes, wakes <= deadline { return (false, false) }
                    state.timerWakes = deadline
                    return (false, true)
                }
                if now { continuation.resume() }
                if startTimer { Task { await self.time() } }
            }
        } onCancel: {
            self.signalCancellation()
        }
    }

    /// Releases the waiter once its deadline passes; sleeps until the current waiter's
    /// deadline, and stops when nobody waits.
    private func time() async {
        while true {
            let now = clock.now
            let (expired, next) = state.withLock { state -> (Waiter?, C.Instant?) in
                if let waiter = state.waiter, waiter.deadline <= now {
                    state.waiter = nil
                    state.timerWakes = nil
                    return (waiter, nil)
                }
                guard let waiter = state.waiter else {
                    state.timerWakes = nil
                    return (nil, nil)
                }
                state.timerWakes = waiter.deadline
                return (nil, waiter.deadline)
            }
            expired?.continuation.resume()
            guard let next else { return }
            try? await clock.sleep(until: next, tolerance: nil)
        }
    }

    private func signalCancellation() {
        let waiter = state.withLock { state -> Waiter? in
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.continuation.resume()
    }
}

extension WakeSignal where C == ContinuousClock {
    /// Creates a signal whose timeouts run on the continuous clock.
    public convenience init() {
        self.init(clock: ContinuousClock())
    }
}
