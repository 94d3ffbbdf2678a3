@testable import ServiceKit
import Testing

struct WakeSignalTests {
    @Test func aWaitEndsOnASignalAPendingSignalOrItsTimeout() async throws {
        let signal = WakeSignal()
        // Pending: at once.
        signal.signal()
        var start = ContinuousClock.now
        await signal.wait(timeout: .seconds(10))
        #expect(ContinuousClock.now - start < .seconds(1))
        // Nothing: after the timeout.
        start = .now
        await signal.wait(timeout: .milliseconds(100))
        let waited = ContinuousClock.now - start
        #expect(waited >= .milliseconds(90) && waited < .seconds(2), "\(waited)")
        // A signal while waiting.
        let waker = Task {
            try await Task.sleep(for: .milliseconds(50))
            signal.signal()
        }
        start = .now
        await signal.wait(timeout: .seconds(10))
        #expect(ContinuousClock.now - start < .seconds(2))
        try await waker.value
    }

    @Test func aShorterTimeoutIsHonouredWhileALongerTimerRuns() async {
        let signal = WakeSignal()
        let long = Task { await signal.wait(timeout: .seconds(30)) }
        try? await Task.sleep(for: .milliseconds(20))
        signal.signal()
        await long.value
        let start = ContinuousClock.now
        await signal.wait(timeout: .milliseconds(100))
        #expect(ContinuousClock.now - start < .seconds(2))
    }

    @Test func manyShortWaitsEachEnd() async {
        let signal = WakeSignal()
        for _ in 0..<200 {
            signal.signal()
            await signal.wait(timeout: .seconds(5))
        }
        let start = ContinuousClock.now
        await signal.wait(timeout: .milliseconds(50))
        #expect(ContinuousClock.now - start < .seconds(2))
    }
}
