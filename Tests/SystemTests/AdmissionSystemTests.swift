import Foundation
import Locking
import MercatoTesting
import Testing

/// Admission control end to end: every answer to a new order is `201` or `503 overloaded`,
/// orders are shed, every order admitted settles and none that was shed exists anywhere.
///
/// Shedding is made certain by configuration, not probable by load: a 1 ms target that no
/// order→invoice trip meets (two transactions and two broker hops each), judged on any
/// interval with one trip (`ADMISSION_MIN_TRIPS=1`). So the first interval in which an order
/// comes back shrinks the admitted share, on a fast machine or a slow one; how much is shed
/// and when it stops is the controller's arithmetic, in `OrderAdmissionTests`.
@Suite(.needsSystem, .systemSlot, .serialized, .timeLimit(.minutes(10)))
struct AdmissionSystemTests {
    @Test func ordersOverTargetAreShedAndEveryAdmittedOneSettles() async throws {
        let system = try await MercatoSystem.start(environment: [
            "ADMISSION_TARGET_MS": "1", "ADMISSION_MIN_TRIPS": "1",
        ])
        let customer = OrderFlowSystemTests.seeds[0]
        let tally = Locked((created: 0, shed: 0, createdAfterShed: 0, other: [Int: Int]()))
        // Until orders were shed and, after that, some admitted again (the door never closes);
        // the deadline only guards against a hang.
        let done: @Sendable () -> Bool = { tally.withLock { $0.shed >= 10 && $0.createdAfterShed >= 10 } }
        let deadline = ContinuousClock.now + .seconds(180)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for client in 0..<4 {
                group.addTask {
                    var sequence = 0
                    while !done(), ContinuousClock.now < deadline {
                        sequence += 1
                        let (status, body) = try await system.placeOrder(
                            customer: customer, items: [("Item \(client)-\(sequence)", 1, "2.50")])
                        let code = (body["error"] as? [String: Any])?["code"] as? String
                        tally.withLock {
                            switch (status, code) {
                            case (201, _):
                                $0.created += 1
                                if $0.shed > 0 { $0.createdAfterShed += 1 }
                            case (503, "overloaded"): $0.shed += 1
                            default: $0.other[status, default: 0] += 1
                            }
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        let (created, shed, createdAfterShed, other) = tally.withLock { $0 }
        #expect(other.isEmpty, "answers other than 201 and 503 overloaded: \(other)")
        #expect(
            shed >= 10 && createdAfterShed >= 10,
            "\(created) placed, \(shed) shed, \(createdAfterShed) placed after the first shed")
        // Exactly the admitted orders exist, counted and invoiced once; the shed left nothing.
        try await system.expectSettled(orders: created)
        await system.shutdown()
    }
}
