import MercatoTesting
import Synchronization
import Testing

@testable import ServiceKit

/// The relay's wake-up, on a manual clock: timeouts are tested by moving the clock, not by
/// waiting and measuring.
@Suite(.timeLimit(.minutes(1)))
struct WakeSignalTests {
    /// A wait in a task of its own, and whether it has returned.
    final class PendingWait: Sendable {
        let returned = OneShot()
        init(_ signal: WakeSignal<ManualClock>, timeout: Duration) {
            Task {
                await signal.wait(timeout: timeout)
                self.returned.fire()
            }
        }
    }

    @Test func aPendingSignalEndsTheNextWaitAtOnce() async throws {
        let clock = ManualClock()
        let signal = WakeSignal(clock: clock)
        signal.signal()
        signal.signal()  // level-triggered: two signals are one wake-up
        try await withDeadline(.seconds(10), "a wait with a signal pending to return") {
            await signal.wait(timeout: .seconds(10))
        }
        let next = PendingWait(signal, timeout: .seconds(10))
        try await clock.waitForSleepers()
        #expect(!next.returned.hasFired, "the second wait consumed the same signal")
        signal.signal()
        try await next.returned.wait("the wait to end on a signal")
    }

    @Test func aWaitEndsAtItsTimeoutAndNotBefore() async throws {
        let clock = ManualClock()
        let signal = WakeSignal(clock: clock)
        let wait = PendingWait(signal, timeout: .seconds(2))
        try await clock.waitForSleepers()
        clock.advance(by: .milliseconds(1999))
        // The timer re-arms for what is left; the wait has not returned.
        try await clock.waitForSleepers()
        #expect(!wait.returned.hasFired)
        clock.advance(by: .milliseconds(1))
        try await wait.returned.wait("the wait to end at its timeout")
    }

    @Test func aShorterTimeoutIsHonouredWhileALongerTimerRuns() async throws {
        let clock = ManualClock()
        let signal = WakeSignal(clock: clock)
        let long = PendingWait(signal, timeout: .seconds(30))
        try await clock.waitForSleepers()
        signal.signal()
        try await long.returned.wait("the long wait to end on the signal")
        // The 30 s timer is still asleep; a 1 s wait must not have to outlast it. The short
        // wait's own timer is the second sleeper: moving the clock before the wait has taken
        // its deadline would set that deadline a second later.
        let short = PendingWait(signal, timeout: .seconds(1))
        try await clock.waitForSleepers(2)
        clock.advance(by: .seconds(1))
        try await short.returned.wait("the short wait to end at its own timeout")
    }

    @Test func manyWaitsWithSignalsNeedNoTimer() async throws {
        let clock = ManualClock()
        let signal = WakeSignal(clock: clock)
        for _ in 0..<200 {
            signal.signal()
            await signal.wait(timeout: .seconds(5))
        }
        #expect(clock.sleepsStarted == 0, "a wait that a pending signal ended started a timer")
    }

    @Test func cancellationEndsAWait() async throws {
        let signal = WakeSignal(clock: ManualClock())
        let waiting = Task { await signal.wait(timeout: .seconds(3600)) }
        waiting.cancel()
        try await withDeadline(.seconds(10), "a cancelled wait to return") { await waiting.value }
    }
}
