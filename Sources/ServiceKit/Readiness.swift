import Locking

/// What a service has brought up so far. `/health/ready` reports it, and parts that need
/// others (consumers need the database migrated and the topology declared) wait on it.
///
/// Components are named: ``database``, ``broker`` and one per consumer. A service is ready
/// when every component it ``require(_:)``d is up.
public final class Readiness: Sendable {
    /// Migrations applied (and seeding done).
    public static let database = "database"
    /// Topology declared on the broker.
    public static let broker = "broker"
    /// The component of the consumer of `queue`.
    public static func consumer(_ queue: String) -> String { "consumer:\(queue)" }

    private struct Waiter {
        let id: Int
        let components: Set<String>
        let continuation: CheckedContinuation<Void, Never>
    }

    private struct State {
        var required: Set<String> = []
        var up: Set<String> = []
        var waiters: [Waiter] = []
        var nextID = 0
    }

    private let state = Locked(State())

    /// Creates an empty state: nothing required, nothing up.
    public init() {}

    /// Adds `component` to what must be up for the service to be ready.
    public func require(_ component: String) {
        state.withLock { _ = $0.required.insert(component) }
    }

    /// Marks `component` as up and wakes whoever waited for it.
    public func markUp(_ component: String) {
        let ready = state.withLock { state -> [Waiter] in
            state.up.insert(component)
            let up = state.up
            let ready = state.waiters.filter { $0.components.isSubset(of: up) }
            state.waiters.removeAll { $0.components.isSubset(of: up) }
            return ready
        }
        for waiter in ready { waiter.continuation.resume() }
    }

    /// Each required component and whether it is up.
    public var components: [String: Bool] {
        state.withLock { state in
            Dictionary(uniqueKeysWithValues: state.required.map { ($0, state.up.contains($0)) })
        }
    }

    /// How many ``wait(for:)`` calls are waiting: tests know from it that a part has reached
    /// its wait, before they assert that it did nothing yet.
    var waiting: Int {
        state.withLock { $0.waiters.count }
    }

    /// Whether every required component is up.
    public var isReady: Bool {
        state.withLock { $0.required.isSubset(of: $0.up) }
    }

    /// Waits until every one of `components` is up; returns early if the task is cancelled
    /// (a service shutting down before its dependencies ever came up).
    public func wait(for components: Set<String>) async {
        let id = state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let now = state.withLock { state -> Bool in
                    if components.isSubset(of: state.up) || Task.isCancelled { return true }
                    state.waiters.append(Waiter(id: id, components: components, continuation: continuation))
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { state -> Waiter? in
                guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                return state.waiters.remove(at: index)
            }
            waiter?.continuation.resume()
        }
    }
}
