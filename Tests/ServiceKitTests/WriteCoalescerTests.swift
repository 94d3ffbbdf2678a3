import Locking
import MercatoTesting
import Synchronization
import Testing

@testable import ServiceKit

@Suite(.timeLimit(.minutes(1)))
struct WriteCoalescerTests {
    /// A refusal that belongs to one request (like a constraint violation).
    struct Refused: Error, Equatable { var value: Int }
    /// A failure of the store itself (like a lost database connection).
    struct Unavailable: Error, Equatable {}

    /// Records the batches it was asked to write. The first write waits at a gate until the
    /// test opens it, so the test decides what queues up behind it. Refuses a batch holding
    /// a negative value; fails every batch while `unavailable` is set.
    final class Recorder: Sendable {
        let batches = Locked<[[Int]]>([])
        let firstWriteStarted = OneShot()
        let gate = OneShot()
        let unavailable = Atomic<Bool>(false)

        func write(_ values: [Int]) async throws -> [Int] {
            let isFirst = batches.withLock { batches in
                batches.append(values)
                return batches.count == 1
            }
            if isFirst {
                firstWriteStarted.fire()
                try await gate.wait("the test to open the gate")
            }
            if unavailable.load(ordering: .relaxed) { throw Unavailable() }
            if let bad = values.first(where: { $0 < 0 }) { throw Refused(value: bad) }
            return values.map { $0 * 10 }
        }
    }

    static func coalescer(_ recorder: Recorder, maxBatch: Int = 10) -> WriteCoalescer<Int, Int> {
        WriteCoalescer(maxBatch: maxBatch, maxWriters: 1, splitsBatch: { $0 is Refused }) {
            try await recorder.write($0)
        }
    }

    /// Submits `values` while the first write holds the writer, so they queue as one batch;
    /// returns each value's outcome once the gate is opened.
    static func queuedBehindFirstWrite(
        _ values: [Int], coalescer: WriteCoalescer<Int, Int>, recorder: Recorder
    ) async throws -> [Int: Result<Int, any Error>] {
        let first = Task { try await coalescer.submit(1) }
        try await recorder.firstWriteStarted.wait("the first write")
        let results = Task {
            await withTaskGroup(of: (Int, Result<Int, any Error>).self) { group in
                for value in values {
                    group.addTask {
                        do { return (value, .success(try await coalescer.submit(value))) } catch {
                            return (value, .failure(error))
                        }
                    }
                }
                return await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
            }
        }
        try await waitUntil("\(values.count) requests queued") { coalescer.waitingCount == values.count }
        recorder.gate.fire()
        _ = await first.result
        return await results.value
    }

    @Test func concurrentRequestsShareWritesAndEachGetsItsOwnResponse() async throws {
        let recorder = Recorder()
        recorder.gate.fire()
        let coalescer = Self.coalescer(recorder, maxBatch: 50)
        let responses = try await withThrowingTaskGroup(of: (Int, Int).self) { group in
            for value in 1...100 { group.addTask { (value, try await coalescer.submit(value)) } }
            return try await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
        }
        #expect(responses.count == 100 && responses.allSatisfy { $0.value == $0.key * 10 })
        let batches = recorder.batches.withLock { $0 }
        #expect(batches.allSatisfy { $0.count <= 50 })
        #expect(batches.flatMap { $0 }.sorted() == Array(1...100))
    }

    @Test func requestsThatArriveDuringAWriteGoTogetherInTheNext() async throws {
        let recorder = Recorder()
        let coalescer = Self.coalescer(recorder)
        let results = try await Self.queuedBehindFirstWrite([2, 3, 4], coalescer: coalescer, recorder: recorder)
        #expect(results.mapValues { try? $0.get() } == [2: 20, 3: 30, 4: 40])
        let batches = recorder.batches.withLock { $0 }
        #expect(batches.count == 2 && batches[0] == [1] && batches[1].sorted() == [2, 3, 4], "\(batches)")
    }

    @Test func aLoneRequestIsWrittenAtOnce() async throws {
        let recorder = Recorder()
        recorder.gate.fire()
        let coalescer = Self.coalescer(recorder)
        #expect(try await coalescer.submit(7) == 70)
        #expect(try await coalescer.submit(8) == 80)
        #expect(recorder.batches.withLock { $0 } == [[7], [8]])
    }

    @Test func aBatchRefusedForOneRequestIsRetriedOneByOneSoOnlyThatRequestFails() async throws {
        let recorder = Recorder()
        let coalescer = Self.coalescer(recorder)
        let results = try await Self.queuedBehindFirstWrite([2, -3, 4], coalescer: coalescer, recorder: recorder)
        #expect(try results[2]?.get() == 20)
        #expect(try results[4]?.get() == 40)
        #expect(throws: Refused(value: -3)) { try results[-3]?.get() }
        let batches = recorder.batches.withLock { $0 }
        #expect(batches.count == 5, "\(batches)")
        #expect(batches[1].count == 3)
        #expect(batches.suffix(3).allSatisfy { $0.count == 1 })
    }

    /// During an outage a batch split into single writes would make one failed write per
    /// request, each waiting as long as the first: the whole batch fails at once instead.
    @Test func aBatchThatFailsForAnotherReasonFailsWholeWithoutRetries() async throws {
        let recorder = Recorder()
        recorder.unavailable.store(true, ordering: .relaxed)
        let coalescer = Self.coalescer(recorder)
        let results = try await Self.queuedBehindFirstWrite([2, 3, 4, 5], coalescer: coalescer, recorder: recorder)
        for value in [2, 3, 4, 5] {
            #expect(throws: Unavailable()) { try results[value]?.get() }
        }
        let batches = recorder.batches.withLock { $0 }
        #expect(batches.count == 2, "a failed batch was retried: \(batches)")
    }
}
