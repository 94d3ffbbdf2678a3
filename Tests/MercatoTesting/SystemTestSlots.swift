import Foundation
import Locking
public import Testing

/// How many system tests (each starts its own three services, and some a browser or a second
/// broker) run at once in one test process: `MERCATO_SYSTEM_TESTS_AT_ONCE`, default 4.
///
/// Swift Testing starts every test of phase 1 at once. Unbounded, two cores ran some forty
/// service processes beside a browser and a second RabbitMQ (load average 27), and the shared
/// broker's Erlang VM fell behind on accepting connections (`handshake_timeout` on its side,
/// `login: request timed out` on the services'): a dozen tests failed together for what was
/// the machine's state, not their behaviour. Bounded, a test's deadlines measure the system it
/// started rather than the queue for the cores.
public final class SystemTestSlots: Sendable {
    /// The slots of this test process.
    public static let shared = SystemTestSlots(
        limit: Int(ProcessInfo.processInfo.environment["MERCATO_SYSTEM_TESTS_AT_ONCE"] ?? "").flatMap {
            $0 > 0 ? $0 : nil
        } ?? 4)

    private struct State {
        var free: Int
        var waiters: [(id: UInt64, continuation: CheckedContinuation<Void, any Error>)] = []
        var nextID: UInt64 = 0
    }

    private let state: Locked<State>

    /// `limit` slots, all free.
    public init(limit: Int) {
        state = Locked(State(free: limit))
    }

    /// Runs `body` holding a slot: waits for one first (failing if the task is cancelled while
    /// it waits), and frees it however `body` ends.
    public func withSlot<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        try await acquire()
        defer { release() }
        return try await body()
    }

    private func acquire() async throws {
        let id = state.withLock { state -> UInt64 in
            state.nextID += 1
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let granted = state.withLock { state -> Bool in
                    if state.free > 0 {
                        state.free -= 1
                        return true
                    }
                    state.waiters.append((id, continuation))
                    return false
                }
                if granted { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Void, any Error>? in
                guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                return state.waiters.remove(at: index).continuation
            }
            waiter?.resume(throwing: CancellationError())
        }
    }

    private func release() {
        let next = state.withLock { state -> CheckedContinuation<Void, any Error>? in
            if state.waiters.isEmpty {
                state.free += 1
                return nil
            }
            return state.waiters.removeFirst().continuation
        }
        next?.resume()
    }
}

/// Holds one of the ``SystemTestSlots`` for each test (each case of a parameterized one) of
/// the suite it is on.
public struct SystemTestSlot: SuiteTrait, TestTrait, TestScoping {
    public var isRecursive: Bool { true }

    public func scopeProvider(for test: Test, testCase: Test.Case?) -> SystemTestSlot? {
        // Once per test case: never for a suite, never twice for one test (a second slot
        // waited for while holding the first could wait forever).
        test.isSuite || testCase == nil ? nil : self
    }

    public func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        try await SystemTestSlots.shared.withSlot { try await function() }
    }
}

extension Trait where Self == SystemTestSlot {
    /// Each test holds one of the few ``SystemTestSlots`` while it runs.
    public static var systemSlot: Self { SystemTestSlot() }
}
