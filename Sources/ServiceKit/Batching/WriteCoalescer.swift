import Synchronization

/// Group commit for concurrent requests: writes that arrive while earlier ones are being
/// written wait, and go to the database together as the next batch, in one statement and
/// one commit.
///
/// Nothing waits for a timer: an idle coalescer writes a lone request at once, so latency at
/// low load is that of a single write; under load, batches grow by themselves to what
/// arrives during one write. Each request gets its own result; a batch that fails as a whole
/// is retried one request at a time, so one bad request (a duplicate key, say) fails alone.
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

    private let state = Mutex(State())
    private let maxBatch: Int
    private let maxWriters: Int
    private let write: Write

    /// Creates a coalescer that runs at most `maxWriters` batches at once (keeping that many
    /// database connections busy) of at most `maxBatch` requests each.
    public init(maxBatch: Int = 128, maxWriters: Int = 2, write: @escaping Write) {
        precondition(maxBatch > 0 && maxWriters > 0)
        self.maxBatch = maxBatch
        self.maxWriters = maxWriters
        self.write = write
    }

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
            precondition(responses.count == batch.count, "a write returned \(responses.count) responses for \(batch.count) requests")
            for (waiting, response) in zip(batch, responses) { waiting.continuation.resume(returning: response) }
        } catch where batch.count > 1 {
            // One at a time: each request gets its own outcome.
            for waiting in batch {
                do {
                    let response = try await write([waiting.request])
                    waiting.continuation.resume(returning: response[0])
                } catch {
                    waiting.continuation.resume(throwing: error)
                }
            }
        } catch {
            batch[0].continuation.resume(throwing: error)
        }
    }
}
