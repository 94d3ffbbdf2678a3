import Locking

/// Group commit for concurrent requests: writes that arrive while earlier ones are being
/// written wait, and go to the database together as the next batch, in one statement and
/// one commit.
///
/// Nothing waits for a timer: an idle coalescer writes a lone request at once, so latency at
/// low load is that of a single write; under load, batches grow by themselves to what
/// arrives during one write. Each request gets its own result.
///
/// A batch refused because of one of its requests (a duplicate key, say: `splitsBatch`
/// decides) is retried one request at a time, so the bad request fails alone. Any other
/// failure (the database is unreachable) fails the whole batch at once: retrying it request
/// by request would turn one failed write into one per request, each as slow as the first.
public final class WriteCoalescer<Request: Sendable, Response: Sendable>: Sendable {
    /// Writes a batch; returns one response per request, in order.
    public typealias Write = @Sendable ([Request]) async throws -> [Response]

    private struct Waiting {
        var request: Request
        var continuation: CheckedContinuation<Response, any Error>
    }

    private struct State {
        var waiting: [Waiting] = []
        var writers = 0
    }

    private let state = Locked(State())
    private let maxBatch: Int
    private let maxWriters: Int
    private let splitsBatch: @Sendable (any Error) -> Bool
    private let write: Write

    /// Creates a coalescer that runs at most `maxWriters` batches at once (keeping that many
    /// database connections busy) of at most `maxBatch` requests each. `splitsBatch` says
    /// whether an error of a batch write may belong to one of its requests, so the batch is
    /// worth retrying one request at a time.
    public init(
        maxBatch: Int = 128, maxWriters: Int = 2, splitsBatch: @escaping @Sendable (any Error) -> Bool,
        write: @escaping Write
    ) {
        precondition(maxBatch > 0 && maxWriters > 0)
        self.maxBatch = maxBatch
        self.maxWriters = maxWriters
        self.splitsBatch = splitsBatch
        self.write = write
    }

    /// Requests waiting for a writer (tests).
    var waitingCount: Int { state.withLock { $0.waiting.count } }

    /// Writes `request`, with whatever else is waiting; returns its response.
    public func submit(_ request: Request) async throws -> Response {
        try await withCheckedThrowingContinuation { continuation in
            let startWriter = state.withLock { state -> Bool in
                state.waiting.append(Waiting(request: request, continuation: continuation))
                guard state.writers < maxWriters else { return false }
                state.writers += 1
                return true
            }
            if startWriter { Task { await self.drain() } }
        }
    }

    /// Writes batches until nothing waits.
    private func drain() async {
        while true {
            let batch = state.withLock { state -> [Waiting] in
                let batch = Array(state.waiting.prefix(maxBatch))
                state.waiting.removeFirst(batch.count)
                if batch.isEmpty { state.writers -= 1 }
                return batch
            }
            guard !batch.isEmpty else { return }
            await run(batch)
        }
    }

    private func run(_ batch: [Waiting]) async {
        do {
            let responses = try await write(batch.map(\.request))
            precondition(
                responses.count == batch.count,
                "a write returned \(responses.count) responses for \(batch.count) requests")
            for (waiting, response) in zip(batch, responses) { waiting.continuation.resume(returning: response) }
        } catch  where batch.count > 1 && splitsBatch(error) {
            await runOneByOne(batch)
        } catch {
            for waiting in batch { waiting.continuation.resume(throwing: error) }
        }
    }

    /// Each request of a refused batch on its own, so each gets its own outcome; once one
    /// fails for a reason that is not its own, the rest fail with it at once.
    private func runOneByOne(_ batch: [Waiting]) async {
        var index = batch.startIndex
        while index < batch.endIndex {
            let waiting = batch[index]
            index += 1
            do {
                let response = try await write([waiting.request])
                waiting.continuation.resume(returning: response[0])
            } catch  where splitsBatch(error) {
                waiting.continuation.resume(throwing: error)
            } catch {
                waiting.continuation.resume(throwing: error)
                for rest in batch[index...] { rest.continuation.resume(throwing: error) }
                return
            }
        }
    }
}
