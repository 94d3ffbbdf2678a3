import Foundation
import MercatoTesting
import Locking
import Testing

/// Admission control end to end: with a target no order can meet, order-service sheds a
/// share of new orders with `503 overloaded`, keeps admitting the rest, and every order it
/// admitted settles while none it shed exists anywhere.
@Suite(.needsSystem, .serialized, .timeLimit(.minutes(5)))
struct AdmissionSystemTests {
    @Test func ordersOverTargetAreShedAndEveryAdmittedOneSettles() async throws {
        let system = try await MercatoSystem.start(environment: ["ADMISSION_TARGET_MS": "1"])
        let customer = OrderFlowSystemTests.seeds[0]
        let tally = Locked((created: 0, shed: 0, other: [Int: Int]()))
        let deadline = ContinuousClock.now + .seconds(90)
        // Sixteen clients until well into shedding: some orders shed and, after that, more admitted.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for client in 0..<16 {
                group.addTask {
                    var sequence = 0
                    while ContinuousClock.now < deadline, tally.withLock({ $0.shed < 200 }) {
                        sequence += 1
                        let (status, body) = try await system.placeOrder(customer: customer, items: [("Item \(client)-\(sequence)", 1, "2.50")])
                        let code = (body["error"] as? [String: Any])?["code"] as? String
                        tally.withLock {
                            switch (status, code) {
                            case (201, _): $0.created += 1
                            case (503, "overloaded"): $0.shed += 1
                            default: $0.other[status, default: 0] += 1
                            }
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        let (created, shed, other) = tally.withLock { $0 }
        #expect(shed >= 200, "no order was shed: \(created) placed")
        #expect(other.isEmpty, "other answers: \(other)")
        #expect(created > 0)
        // Exactly the admitted orders exist, counted and invoiced once; the shed left nothing.
        try await system.expectSettled(orders: created)
        await system.shutdown()
    }
}
