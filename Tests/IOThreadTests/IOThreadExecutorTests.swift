import Dispatch
import Foundation
import Locking
import MercatoTesting
import Synchronization
import Testing

@testable import IOThread

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

/// A pipe, closed when the test ends.
private final class Pipe: Sendable {
    let readEnd: Int32
    let writeEnd: Int32

    init() {
        var fds: [Int32] = [0, 0]
        precondition(pipe(&fds) == 0)
        (readEnd, writeEnd) = (fds[0], fds[1])
    }

    deinit {
        close(readEnd)
        close(writeEnd)
    }

    func write() {
        var byte: UInt8 = 1
        _ = Glibc.write(writeEnd, &byte, 1)
    }
}

@Suite(.timeLimit(.minutes(1)))
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

    @Test func aWaitWithNothingToReadEndsAtItsDeadline() async {
        let pinned = Pinned()
        let pipe = Pipe()
        #expect(await pinned.wait(on: pipe.readEnd, timeout: .milliseconds(50)) == false)
    }

    @Test func aWaitEndsWhenTheDescriptorBecomesReadable() async throws {
        let pinned = Pinned()
        let pipe = Pipe()
        // A deadline far beyond the test's time limit: only the write can end this wait.
        let waiting = Task { await pinned.wait(on: pipe.readEnd, timeout: .seconds(3600)) }
        try await waitUntil("the wait to start") { await pinned.executor.hasWaiter }
        pipe.write()
        #expect(await waiting.value == true)
    }

    @Test func otherJobsRunWhileOneWaits() async throws {
        let pinned = Pinned()
        let pipe = Pipe()
        let waiting = Task { await pinned.wait(on: pipe.readEnd, timeout: .seconds(3600)) }
        try await waitUntil("the wait to start") { await pinned.executor.hasWaiter }
        // Would never return if the pending wait blocked the thread.
        await pinned.record()
        #expect(await pinned.executor.hasWaiter, "the wait ended before the descriptor was written")
        pipe.write()
        #expect(await waiting.value == true)
    }

    @Test func restartsOnANewThreadAfterShutdown() async throws {
        let executor = IOThreadExecutor(name: "restart")
        let stopped = OneShot()
        executor.hooks.withLock { $0.stopped = { stopped.fire() } }
        #expect(try await run(on: executor) { executor.isCurrentThread })
        executor.shutdown()
        try await stopped.wait("the executor's thread to stop after shutdown")
        #expect(executor.threadsStarted.load(ordering: .relaxed) == 1)
        // The next job starts a thread of its own, which knows it is the executor's.
        #expect(try await run(on: executor) { executor.isCurrentThread })
        #expect(executor.threadsStarted.load(ordering: .relaxed) == 2)
    }

    /// A job that arrives while the old thread is on its way out starts a new thread; the old
    /// one must not then wipe the new thread's identity (an actor on the executor would trap
    /// in `assumeIsolated`).
    @Test func aJobThatArrivesWhileTheThreadStopsRunsOnAThreadThatKnowsItIsTheExecutors() async throws {
        let executor = IOThreadExecutor(name: "restart-race")
        let stopping = OneShot()
        let oldThreadGone = OneShot()
        let release = DispatchSemaphore(value: 0)
        executor.hooks.withLock {
            $0.stopping = {
                stopping.fire()
                // Hold the old thread here until a new thread has run a job.
                release.wait()
            }
            $0.stopped = { oldThreadGone.fire() }
        }
        #expect(try await run(on: executor) { executor.isCurrentThread })
        executor.shutdown()
        try await stopping.wait("the old thread to stop")

        #expect(try await run(on: executor) { executor.isCurrentThread })
        release.signal()
        try await oldThreadGone.wait("the old thread to end")
        #expect(try await run(on: executor) { executor.isCurrentThread }, "the new thread lost its identity")
        #expect(executor.threadsStarted.load(ordering: .relaxed) == 2)
    }

    /// Runs `work` on the executor's thread (as a closure, not a task) and returns its result.
    private func run<T: Sendable>(on executor: IOThreadExecutor, _ work: @escaping @Sendable () -> T) async throws -> T
    {
        try await withDeadline(.seconds(30), "a job on the executor") {
            await withCheckedContinuation { continuation in
                executor.execute { continuation.resume(returning: work()) }
            }
        }
    }
}
