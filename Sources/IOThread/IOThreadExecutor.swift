// swift-format-ignore-file: OrderedImports
// Glibc first: imported after Foundation, `pthread_attr_t()` resolves to CDispatch's module,
// which MemberImportVisibility then refuses.
#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
import Foundation
import Locking
import Synchronization

/// A serial executor that runs every job on one dedicated OS thread.
///
/// rabbitmq-c and libpq handles must never be used from two threads at once, and their calls
/// block. An actor whose `unownedExecutor` is an `IOThreadExecutor` is confined to that
/// thread, so it may make blocking C calls freely without starving Swift's cooperative pool,
/// and its state is protected by ordinary actor isolation.
///
/// While it has no job to run the thread sleeps in `poll(2)` on a wake-up descriptor and, when
/// an isolated caller is inside ``waitUntilReadable(_:timeout:)``, on that caller's socket.
/// This is how a connection notices incoming frames or notifications without a busy loop.
///
/// It is also a `TaskExecutor`: a task that prefers it (`withTaskExecutorPreference`) runs
/// its nonisolated code on the same thread, so calls into the actor need no thread switch.
public final class IOThreadExecutor: SerialExecutor, TaskExecutor, @unchecked Sendable {
    // @unchecked Sendable: `state` is guarded by its mutex; `waiter` is only touched on the
    // executor's own thread.

    private struct State {
        var jobs: [UnownedJob] = []
        var closures: [@Sendable () -> Void] = []
        /// Whether a thread serves the executor (or is being started to).
        var running = false
        var stopping = false
        /// The serving thread, set by the thread itself when it starts and cleared in the
        /// same critical section that clears `running`: a thread started after that cannot
        /// have its identity wiped by the one that is leaving.
        var thread: pthread_t?
    }

    private struct Waiter {
        let fd: Int32
        let deadline: ContinuousClock.Instant
        let continuation: CheckedContinuation<Bool, Never>
    }

    private let name: String
    private let state = Locked(State())
    /// A pipe: writing a byte to `wakeFD.write` wakes the thread out of `poll`.
    private let wakeFD: (read: Int32, write: Int32)
    /// Only read and written on the executor's thread, inside jobs and the run loop.
    private var waiter: Waiter?
    /// Test seams, called on the executor's thread as it stops.
    let hooks = Locked(ThreadHooks())
    /// Threads started so far.
    let threadsStarted = Atomic<Int>(0)

    /// Creates an executor; its thread starts with the first job.
    /// - Parameter name: the thread's name, visible in debuggers and `top -H`.
    public init(name: String) {
        self.name = name
        var fds: [Int32] = [0, 0]
        precondition(pipe(&fds) == 0, "pipe failed: \(errno)")
        for fd in fds {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        }
        self.wakeFD = (fds[0], fds[1])
    }

    deinit {
        close(wakeFD.read)
        close(wakeFD.write)
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        let startThread = state.withLock { state -> Bool in
            state.jobs.append(unowned)
            if state.running { return false }
            state.running = true
            return true
        }
        if startThread {
            startRunLoop()
        } else if !isCurrentThread {
            wake()
        }
    }

    /// Runs `work` on the executor's thread, in order with jobs, without a task: for
    /// fire-and-forget work such as writing an acknowledgement, where a task would cost a hop
    /// through the cooperative pool and the caller has nothing to wait for. `work` may call
    /// `assumeIsolated` on an actor that runs on this executor.
    public func execute(_ work: @escaping @Sendable () -> Void) {
        let startThread = state.withLock { state -> Bool in
            state.closures.append(work)
            if state.running { return false }
            state.running = true
            return true
        }
        if startThread {
            startRunLoop()
        } else if !isCurrentThread {
            wake()
        }
    }

    public func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }

    public func asUnownedTaskExecutor() -> UnownedTaskExecutor {
        UnownedTaskExecutor(ordinary: self)
    }

    public func checkIsolated() {
        precondition(isCurrentThread, "not on the \(name) thread")
    }

    /// Whether the caller runs on this executor's thread.
    public var isCurrentThread: Bool {
        guard let id = state.withLock({ $0.thread }) else { return false }
        return pthread_equal(id, pthread_self()) != 0
    }

    /// Lets the thread end once its queued jobs have run. A later job starts a new thread, so
    /// stopping never strands work; it only stops an idle executor from holding a thread.
    public func shutdown() {
        state.withLock { $0.stopping = true }
        wake()
    }

    /// Suspends the caller until `fd` is readable or `timeout` passes; other jobs of this
    /// executor run meanwhile. Returns whether the descriptor became readable.
    ///
    /// The caller must be isolated to this executor (an actor that uses it), and only one
    /// caller may wait at a time: it is meant for the one socket a connection owns.
    public func waitUntilReadable(
        _ fd: Int32, timeout: Duration, isolation: isolated (any Actor)? = #isolation
    ) async -> Bool {
        checkIsolated()
        precondition(waiter == nil, "only one waiter at a time")
        let deadline = ContinuousClock.now.advanced(by: timeout)
        return await withCheckedContinuation { continuation in
            // Runs synchronously on this thread before the caller suspends.
            waiter = Waiter(fd: fd, deadline: deadline, continuation: continuation)
        }
    }

    /// Ends a pending ``waitUntilReadable(_:timeout:)`` now (it returns `false`), so its
    /// caller looks at its state again: after a blocking call elsewhere on this executor
    /// consumed the socket's data, or to shut down. Must be called on this executor.
    public func interruptWait() {
        checkIsolated()
        guard let current = waiter else { return }
        waiter = nil
        current.continuation.resume(returning: false)
    }

    /// Whether a caller waits in ``waitUntilReadable(_:timeout:)`` (tests).
    var hasWaiter: Bool {
        get async {
            await withCheckedContinuation { continuation in
                execute { continuation.resume(returning: self.waiter != nil) }
            }
        }
    }

    // MARK: - The thread

    private func startRunLoop() {
        let box = Unmanaged.passRetained(self)
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
        // Connections need little stack; the default 8 MiB is virtual anyway but adds up in
        // tests that open many connections.
        pthread_attr_setstacksize(&attributes, 512 * 1024)
        var thread = pthread_t()
        let result = pthread_create(
            &thread, &attributes,
            { raw in
                let executor = Unmanaged<IOThreadExecutor>.fromOpaque(raw!).takeRetainedValue()
                executor.runLoop()
                return nil
            }, box.toOpaque())
        precondition(result == 0, "pthread_create failed: \(result)")
    }

    private func runLoop() {
        threadsStarted.add(1, ordering: .relaxed)
        state.withLock { $0.thread = pthread_self() }
        Thread.current.name = name
        while true {
            let (jobs, closures, stop) = state.withLock { state -> ([UnownedJob], [@Sendable () -> Void], Bool) in
                let jobs = state.jobs
                let closures = state.closures
                state.jobs.removeAll(keepingCapacity: true)
                state.closures.removeAll(keepingCapacity: true)
                if jobs.isEmpty && closures.isEmpty && state.stopping && self.waiter == nil {
                    state.running = false
                    state.stopping = false
                    state.thread = nil
                    return (jobs, closures, true)
                }
                return (jobs, closures, false)
            }
            if stop {
                hooks.withLock { $0.stopping }?()
                break
            }
            for closure in closures { closure() }
            for job in jobs {
                job.runSynchronously(on: asUnownedSerialExecutor())
            }
            // Block only when nothing is queued; otherwise just peek at the descriptors so a
            // busy actor still notices its socket. `shutdown()` writes the wake-up pipe,
            // so a blocking poll returns and the loop sees `stopping`.
            let idle = state.withLock { $0.jobs.isEmpty && $0.closures.isEmpty }
            pollDescriptors(block: idle)
        }
        hooks.withLock { $0.stopped }?()
    }

    private func pollDescriptors(block: Bool) {
        var fds = [pollfd(fd: wakeFD.read, events: Int16(POLLIN), revents: 0)]
        var timeoutMS: Int32 = block ? -1 : 0
        if let waiter {
            fds.append(pollfd(fd: waiter.fd, events: Int16(POLLIN), revents: 0))
            if block {
                let remaining = ContinuousClock.now.duration(to: waiter.deadline)
                timeoutMS = remaining <= .zero ? 0 : Int32(clamping: Self.milliseconds(rounding: remaining))
            }
        }
        let ready = poll(&fds, nfds_t(fds.count), timeoutMS)
        if ready > 0, fds[0].revents != 0 {
            var drain = [UInt8](repeating: 0, count: 64)
            while read(wakeFD.read, &drain, drain.count) > 0 {}
        }
        guard let current = waiter else { return }
        let readable = ready > 0 && fds.count > 1 && fds[1].revents != 0
        if readable || ContinuousClock.now >= current.deadline {
            waiter = nil
            current.continuation.resume(returning: readable)
        }
    }

    private func wake() {
        var one: UInt8 = 1
        // A full pipe already guarantees a wake-up, so a failed write is fine.
        _ = write(wakeFD.write, &one, 1)
    }

    private static func milliseconds(rounding duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
    }
}

/// Test seams of ``IOThreadExecutor``: what its thread calls while it stops.
struct ThreadHooks: Sendable {
    /// After the thread gave the executor up, before it ends.
    var stopping: (@Sendable () -> Void)?
    /// As the thread ends.
    var stopped: (@Sendable () -> Void)?
}
