import ServiceKit
import Synchronization
import Testing

struct WriteCoalescerTests {
    struct Refused: Error, Equatable { var value: Int }

    /// Records the batches it was asked to write; refuses any batch holding a negative value.
    final class Recorder: Sendable {
        let batches = Mutex<[[Int]]>([])
        func write(_ values: [Int]) async throws -> [Int] {
            batches.withLock { $0.append(values) }
            try await Task.sleep(for: .milliseconds(20))
            if let bad = values.first(where: { $0 < 0 }) { throw Refused(value: bad) }
            return values.map { $0 * 10 }
        }
    }

    @Test func concurrentRequestsShareWritesAndEachGetsItsOwnResponse() async throws {
        let recorder = Recorder()
        let coalescer = WriteCoalescer<Int, Int>(maxBatch: 50, maxWriters: 1) { try await recorder.write($0) }
        let responses = try await withThrowingTaskGroup(of: (Int, Int).self) { group in
            for value in 1...100 { group.addTask { (value, try await coalescer.submit(value)) } }
            return try await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
        }
        #expect(responses.count == 100 && responses.allSatisfy { $0.value == $0.key * 10 })
        let batches = recorder.batches.withLock { $0 }
        #expect(batches.count < 100, "no coalescing: \(batches.count) writes")
        #expect(batches.allSatisfy { $0.count <= 50 })
        #expect(batches.flatMap { $0 }.sorted() == Array(1...100))
    }

    @Test func aLoneRequestIsWrittenAtOnce() async throws {
        let recorder = Recorder()
        let coalescer = WriteCoalescer<Int, Int> { try await recorder.write($0) }
        #expect(try await coalescer.submit(7) == 70)
        #expect(try await coalescer.submit(8) == 80)
        #expect(recorder.batches.withLock { $0 } == [[7], [8]])
    }

    @Test func aFailedBatchIsRetriedOneByOneSoOnlyTheBadRequestFails() async throws {
        let recorder = Recorder()
        let coalescer = WriteCoalescer<Int, Int>(maxBatch: 10, maxWriters: 1) { try await recorder.write($0) }
        // The first write holds the writer while the rest queue up into one batch.
        async let first = coalescer.submit(1)
        try await Task.sleep(for: .milliseconds(5))
        let results = await withTaskGroup(of: (Int, Result<Int, Refused>).self) { group in
            for value in [2, -3, 4] {
                group.addTask {
                    do { return (value, .success(try await coalescer.submit(value))) } catch { return (value, .failure(error as! Refused)) }
                }
            }
            return await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
        }
        #expect(try await first == 10)
        #expect(results[2] == .success(20))
        #expect(results[4] == .success(40))
        #expect(results[-3] == .failure(Refused(value: -3)))
        let batches = recorder.batches.withLock { $0 }
        #expect(batches.contains { $0.count == 3 }, "\(batches)")
        #expect(batches.suffix(3).allSatisfy { $0.count == 1 })
    }
}
