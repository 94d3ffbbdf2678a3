#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// State behind a lock: read and changed only inside ``withLock(_:)``.
///
/// It does what `Synchronization.Mutex` does, over a `pthread_mutex_t`: on Linux `Mutex`
/// locks with bare futex calls that ThreadSanitizer cannot see, so every access it protects
/// is reported as a race and a TSan run of the tests says nothing useful. pthread mutexes are
/// intercepted by TSan, so races found with this lock are real ones. Uncontended, both cost
/// about the same.
public final class Locked<State>: @unchecked Sendable {
    // @unchecked Sendable: `state` is only touched between lock and unlock of `mutex`, and
    // values move in and out as `sending`, as with `Mutex`.
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private var state: State

    /// Creates the lock around `initialState`.
    public init(_ initialState: consuming sending State) {
        mutex = UnsafeMutablePointer.allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        let status = pthread_mutex_init(mutex, nil)
        precondition(status == 0, "pthread_mutex_init failed: \(status)")
        state = initialState
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// Runs `body` with the state, holding the lock; `body` must not block or take this lock
    /// again.
    @inlinable
    public func withLock<Result, Failure: Error>(_ body: (inout sending State) throws(Failure) -> sending Result)
        throws(Failure) -> sending Result
    {
        lock()
        defer { unlock() }
        return try body(&stateForBody)
    }

    @usableFromInline
    var stateForBody: State {
        _read { yield state }
        _modify { yield &state }
    }

    @usableFromInline
    func lock() {
        pthread_mutex_lock(mutex)
    }

    @usableFromInline
    func unlock() {
        pthread_mutex_unlock(mutex)
    }
}
