import Locking
import Logging
import MercatoTesting
import Testing

@testable import ServiceKit

/// The loop under the sweepers and publishers, driven by its wake-up signal: no sleeping.
@Suite(.timeLimit(.minutes(1)))
struct PeriodicChoreTests {
    struct Failure: Error {}

    @Test func drainsABacklogAtOnceAndRunsAgainWhenWokenEvenAfterAFailure() async throws {
        let readiness = Readiness()
        let wakeUp = WakeSignal<ContinuousClock>()
        // What each round answers, in order: two batches and the end, a failure, then the end.
        let script = Locked<[Result<Bool, Failure>]>([
            .success(true), .success(true), .success(false), .failure(Failure()), .success(false),
        ])
        let rounds = Locked(0)
        let chore = PeriodicChore(
            "test chore", readiness: readiness, interval: .seconds(3600), wakeUp: wakeUp, logger: Logger(label: "tests")
        ) {
            rounds.withLock { $0 += 1 }
            return try script.withLock { $0.isEmpty ? .success(false) : $0.removeFirst() }.get()
        }
        try await withRunning([chore]) {
            // The chore waits for the database before its first round: once it does, it has
            // run nothing.
            try await waitUntil("the chore to wait for the database") { readiness.waiting == 1 }
            #expect(rounds.withLock { $0 } == 0, "ran before the database was ready")
            readiness.markUp(Readiness.database)
            try await waitUntil("the backlog drained in one run") { rounds.withLock { $0 } == 3 }
            wakeUp.signal()
            try await waitUntil("a run that fails") { rounds.withLock { $0 } == 4 }
            wakeUp.signal()
            try await waitUntil("the run after the failure") { rounds.withLock { $0 } == 5 }
        }
        #expect(rounds.withLock { $0 } == 5)
    }
}
