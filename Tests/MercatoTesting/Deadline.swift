import Locking

/// Runs `body` and returns its result, or throws a ``TestFailure`` naming `what` once
/// `timeout` passes: a test that waits for something that never comes fails, it does not
/// hang.
///
/// `body` runs in a task of its own that is cancelled at the deadline but not awaited, so
/// even code that ignores cancellation cannot hold the test past its deadline.
public func withDeadline<T: Sendable>(
    _ timeout: Duration, _ what: String, _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    let race = Race<T>()
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { continuation in
            race.start(continuation, timeout: timeout, what: what, body)
        }
    } onCancel: {
        race.finish(.failure(CancellationError()))
    }
}

/// The body of ``withDeadline(_:_:_:)`` against its timer: whichever ends first resumes the
/// caller, and the other is cancelled.
private final class Race<T: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<T, any Error>?
        var finished: Result<T, any Error>?
        var tasks: [Task<Void, Never>] = []
    }

    private let state = Locked(State())

    func start(
        _ continuation: CheckedContinuation<T, any Error>, timeout: Duration, what: String,
        _ body: @escaping @Sendable () async throws -> T
    ) {
        let early = state.withLock { state -> Result<T, any Error>? in
            if let finished = state.finished { return finished }
            state.continuation = continuation
            return nil
        }
        if let early {
            continuation.resume(with: early)
            return
        }
        let work = Task {
            do { self.finish(.success(try await body())) } catch { self.finish(.failure(error)) }
        }
        let timer = Task {
            try? await Task.sleep(for: timeout)
            guard !Task.isCancelled else { return }
            self.finish(.failure(TestFailure("\(what) did not happen within \(timeout)")))
        }
        let cancelNow = state.withLock { state -> Bool in
            state.tasks = [work, timer]
            return state.finished != nil
        }
        if cancelNow {
            work.cancel()
            timer.cancel()
        }
    }

    func finish(_ result: Result<T, any Error>) {
        let (continuation, tasks) = state.withLock {
            state -> (CheckedContinuation<T, any Error>?, [Task<Void, Never>]) in
            guard state.finished == nil else { return (nil, []) }
            state.finished = result
            defer { state.continuation = nil }
            return (state.continuation, state.tasks)
        }
        for task in tasks { task.cancel() }
        continuation?.resume(with: result)
    }
}

/// Waits until `condition` holds, looking every `interval`; throws a ``TestFailure`` naming
/// `what` if it still does not after `timeout`. For conditions no event announces, such as
/// rows appearing in another process's database.
public func waitUntil(
    _ what: String, timeout: Duration = .seconds(30), interval: Duration = .milliseconds(20),
    _ condition: @escaping @Sendable () async throws -> Bool
) async throws {
    try await withDeadline(timeout, what) {
        while try await !condition() {
            try await Task.sleep(for: interval)
        }
    }
}
