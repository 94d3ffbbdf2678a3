import Testing

@testable import Postgres

/// The pool's bookkeeping driven step by step: every interleaving of callers that threads
/// can produce, chosen here instead of left to the scheduler.
@Suite(.timeLimit(.minutes(1)))
struct ConnectionPoolStateTests {
    typealias Pool = ConnectionPoolState<String, String>
    let now = ContinuousClock.now

    /// A pool of `capacity` whose every slot is open and handed out.
    func busyPool(capacity: Int) throws -> Pool {
        var pool = Pool(capacity: capacity)
        for _ in 0..<capacity {
            guard case .create = try pool.acquire() else {
                Issue.record("not created")
                return pool
            }
        }
        return pool
    }

    @Test func aReleaseBetweenDecidingToWaitAndQueueingIsNotLost() throws {
        var pool = try busyPool(capacity: 1)
        // Caller B finds the pool busy...
        guard case .wait = try pool.acquire() else {
            Issue.record("expected to wait")
            return
        }
        // ...and before it queues, A hands its connection back: nobody waits, so it goes idle.
        guard case .idle = pool.release("A's connection") else {
            Issue.record("expected idle")
            return
        }
        // B must take that connection now: no release may ever come to wake it.
        guard
            case .ready(.connection(let connection)) = try pool.enqueue("B", deadline: now + .seconds(10))
        else {
            Issue.record("B was queued while a connection sat idle")
            return
        }
        #expect(connection == "A's connection")
        #expect(pool.waiters.isEmpty && pool.idle.isEmpty)
    }

    @Test func aSlotFreedBetweenDecidingToWaitAndQueueingIsNotLost() throws {
        var pool = try busyPool(capacity: 1)
        guard case .wait = try pool.acquire() else {
            Issue.record("expected to wait")
            return
        }
        #expect(pool.discard() == nil, "no waiter yet: the slot is freed")
        guard case .ready(.slot) = try pool.enqueue("B", deadline: now + .seconds(10)) else {
            Issue.record("B was queued while a slot was free")
            return
        }
        #expect(pool.open == 1)
    }

    @Test func waitersAreServedFirstComeFirstServedByReleases() throws {
        var pool = try busyPool(capacity: 2)
        for waiter in ["B", "C", "D"] {
            guard case .wait = try pool.acquire() else {
                Issue.record("expected to wait")
                return
            }
            guard case .queued(let startTimer) = try pool.enqueue(waiter, deadline: now + .seconds(10))
            else {
                Issue.record("not queued")
                return
            }
            #expect(startTimer == (waiter == "B"), "one timer per pool, started by the first waiter")
        }
        guard case .handOver("B") = pool.release("one") else {
            Issue.record("B first")
            return
        }
        guard case .handOver("C") = pool.release("two") else {
            Issue.record("C second")
            return
        }
        guard case .handOver("D") = pool.release("one") else {
            Issue.record("D third")
            return
        }
        guard case .idle = pool.release("two") else {
            Issue.record("then idle")
            return
        }
        #expect(pool.open == 2 && pool.idle == ["two"])
    }

    @Test func aBrokenConnectionsSlotGoesToTheLongestWaiterReserved() throws {
        var pool = try busyPool(capacity: 1)
        _ = try pool.acquire()
        _ = try pool.enqueue("B", deadline: now + .seconds(10))
        #expect(pool.discard() == "B")
        // The slot stays counted for B, so a newcomer cannot open a connection in it first.
        #expect(pool.open == 1)
        guard case .wait = try pool.acquire() else {
            Issue.record("a newcomer took B's slot")
            return
        }
    }

    @Test func waitersFailAtTheirDeadlinesAndTheTimerStopsWhenNoneAreLeft() throws {
        var pool = try busyPool(capacity: 1)
        for (waiter, seconds) in [("B", 1), ("C", 2)] {
            _ = try pool.acquire()
            _ = try pool.enqueue(waiter, deadline: now + .seconds(seconds))
        }
        var (expired, next) = pool.expire(at: now + .milliseconds(500))
        #expect(expired.isEmpty && next == now + .seconds(1))
        (expired, next) = pool.expire(at: now + .seconds(1))
        #expect(expired == ["B"] && next == now + .seconds(2) && pool.timerRunning)
        (expired, next) = pool.expire(at: now + .seconds(3))
        #expect(expired == ["C"] && next == nil && !pool.timerRunning)
        _ = try pool.acquire()
        guard case .queued(startTimer: true) = try pool.enqueue("D", deadline: now + .seconds(13))
        else {
            Issue.record("a stopped timer must be started again")
            return
        }
    }

    @Test func shutdownFailsWaitersClosesIdleConnectionsAndRefusesNewCallers() throws {
        var pool = try busyPool(capacity: 2)
        _ = pool.release("idle one")
        _ = try pool.acquire()
        _ = try pool.acquire()
        _ = try pool.enqueue("B", deadline: now + .seconds(10))
        let (idle, waiters) = pool.shutDown()
        #expect(idle.isEmpty && waiters == ["B"])
        guard case .close = pool.release("in use") else {
            Issue.record("a connection returned after shutdown closes")
            return
        }
        #expect(pool.open == 1)
        #expect(throws: PostgresError.self) { try pool.acquire() }
        #expect(throws: PostgresError.self) { try pool.enqueue("C", deadline: now + .seconds(10)) }
    }
}
