import Foundation
import IOThread
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// An actor pinned to an IOThreadExecutor, as the Broker and Postgres connections are.
private actor Pinned {
    nonisolated let executor = IOThreadExecutor(name: "test-io")
    nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }
    var threads = Set<UInt>()

    func record() {
        threads.insert(UInt(bitPattern: Int(pthread_self())))
    }

    func wait(on fd: Int32, timeout: Duration) async -> Bool {
        await executor.waitUntilReadable(fd, timeout: timeout)
    }
}

struct IOThreadExecutorTests {
    @Test func isolatedWorkRunsOnOneDedicatedThread() async {
        let pinned = Pinned()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<200 { group.addTask { await pinned.record() } }
        }
        let threads = await pinned.threads
        #expect(threads.count == 1)
        #expect(!threads.contains(UInt(bitPattern: Int(pthread_self()))))
    }

    @Test func waitsUntilADescriptorIsReadable() async throws {
        let pinned = Pinned()
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        let (readEnd, writeEnd) = (fds[0], fds[1])
        defer { close(readEnd); close(writeEnd) }
        // Nothing to read: times out.
        let start = ContinuousClock.now
        #expect(await pinned.wait(on: readEnd, timeout: .milliseconds(100)) == false)
        #expect(ContinuousClock.now - start >= .milliseconds(90))
        // Written meanwhile: wakes up early.
        let writer = Task {
            try await Task.sleep(for: .milliseconds(50))
            var byte: UInt8 = 1
            _ = write(writeEnd, &byte, 1)
        }
        let woke = ContinuousClock.now
        #expect(await pinned.wait(on: readEnd, timeout: .seconds(10)) == true)
        #expect(ContinuousClock.now - woke < .seconds(5))
        try await writer.value
    }

    @Test func otherJobsRunWhileOneWaits() async {
        let pinned = Pinned()
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        let (readEnd, writeEnd) = (fds[0], fds[1])
        defer { close(readEnd); close(writeEnd) }
        let waiting = Task { await pinned.wait(on: readEnd, timeout: .seconds(2)) }
        try? await Task.sleep(for: .milliseconds(20))
        let start = ContinuousClock.now
        await pinned.record()
        #expect(ContinuousClock.now - start < .seconds(1))
        _ = await waiting.value
    }

    @Test func restartsAfterShutdown() async {
        let pinned = Pinned()
        await pinned.record()
        pinned.executor.shutdown()
        try? await Task.sleep(for: .milliseconds(50))
        await pinned.record()
        #expect(await pinned.threads.count >= 1)
    }
}
