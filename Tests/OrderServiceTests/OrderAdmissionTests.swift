import Contracts
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import MercatoTesting
import ServiceKit
import ServiceTesting
import Testing

@testable import OrderService

/// Admission control over explicit instants: no wall clock, no sleeping.
@Suite(.timeLimit(.minutes(1)))
struct OrderAdmissionTests {
    let start = ContinuousClock.now
    /// A 250 ms target, whatever the default.
    let admission = {
        var configuration = OrderAdmission.Configuration()
        configuration.target = .milliseconds(250)
        return OrderAdmission(configuration: configuration)
    }()

    func at(_ milliseconds: Int) -> ContinuousClock.Instant { start + .milliseconds(milliseconds) }

    /// How many of `count` orders asked for at `time` are admitted.
    func admitted(_ count: Int, at time: ContinuousClock.Instant) -> Int {
        (0..<count).filter { _ in admission.admit(at: time) }.count
    }

    /// `count` trips of `milliseconds` each: enough to judge an interval.
    func trips(_ milliseconds: Double, _ count: Int = 20) -> [Double] { Array(repeating: milliseconds, count: count) }

    @Test func admitsEverythingWhileSomeOrdersStillSettleInTime() {
        #expect(admitted(100, at: at(0)) == 100)
        // A burst: most orders slow, but the fastest in time — no standing backlog.
        for interval in 1...20 {
            admission.record(tripMilliseconds: trips(900, 15) + trips(600, 4) + [200], at: at(interval * 250 - 10))
            #expect(admitted(100, at: at(interval * 250)) == 100, "interval \(interval)")
        }
        #expect(admission.share == 1 && admission.shedCount == 0)
    }

    @Test func aFewSlowOrdersAtALowRateAreNoReasonToShed() {
        _ = admission.admit(at: at(0))
        for interval in 1...8 {
            admission.record(tripMilliseconds: trips(5_000, 19), at: at(interval * 250 - 10))
        }
        #expect(admitted(10, at: at(2_000)) == 10 && admission.share == 1)
    }

    @Test func shedsAShareThatShrinksWithTheBacklogAndGrowsBackWhenItDrains() {
        _ = admission.admit(at: at(0))
        // Two intervals whose every trip is over the 250 ms target: a standing backlog.
        admission.record(tripMilliseconds: trips(300, 10) + trips(400, 5) + trips(260, 5), at: at(100))
        // Share 0.75: three in four, starting with the first.
        #expect((0..<8).map { _ in admission.admit(at: at(250)) } == [true, true, true, true, false, true, true, true])
        admission.record(tripMilliseconds: trips(600), at: at(300))
        let second = admitted(100, at: at(500))
        #expect((56...57).contains(second), "share 0.5625, got \(second)")
        #expect(admission.shedCount == 1 + 100 - second)
        // Drained: each interval in time gives a tenth back.
        admission.record(tripMilliseconds: trips(900, 19) + [30], at: at(600))
        #expect(abs(admission.share - 0.5625) < 1e-9)
        _ = admission.admit(at: at(750))
        #expect(abs(admission.share - 0.6625) < 1e-9)
    }

    @Test func neverShutsTheDoorAndOpensItWhenNothingComesBack() {
        _ = admission.admit(at: at(0))
        for interval in 1...40 {
            admission.record(tripMilliseconds: trips(5_000), at: at(interval * 250 - 1))
        }
        _ = admission.admit(at: at(10_000))
        #expect(abs(admission.share - 0.1) < 1e-9)
        #expect(
            (9...10).contains(admitted(100, at: at(10_001))),
            "the least share is still admitted, so trips keep being measured")
        // An outage downstream: no trips at all for a few seconds is not a reason to shed.
        _ = admission.admit(at: at(13_000))
        #expect(admission.share == 1)
    }

    @Test func aTargetOfZeroNeverSheds() {
        var configuration = OrderAdmission.Configuration()
        configuration.target = .zero
        let off = OrderAdmission(configuration: configuration)
        off.record(tripMilliseconds: trips(60_000), at: at(0))
        off.record(tripMilliseconds: trips(60_000), at: at(1_000))
        #expect((0..<10).allSatisfy { _ in off.admit(at: at(2_000)) })
    }

    /// A shed order is a 503 with Retry-After and the JSON error body, and nothing is written.
    @Test func aShedOrderIsA503WithRetryAfterAndIsNotPlaced() async throws {
        let storage = MemoryOrderStorage()
        let customer = CustomerSnapshot(
            customerID: UUID(), name: "Ada", email: "ada@example.com", address: "x", ordersCount: 0, version: 1,
            updatedAt: Date())
        try await storage.replica.saveCustomers([customer], events: [])
        try await storage.products.saveProducts([OrderServiceTests.product("TEA-1")], events: [])
        var configuration = OrderAdmission.Configuration()
        configuration.minimumShare = 0.5
        configuration.interval = .seconds(60)
        let admission = OrderAdmission(configuration: configuration)
        // Three intervals well over target, recorded ahead of the clock so the requests
        // below fall in no new interval: half the orders are shed, every other one.
        let base = ContinuousClock.now
        for minute in 0...3 {
            admission.record(tripMilliseconds: Array(repeating: 10_000, count: 20), at: base + .seconds(60 * minute))
        }
        #expect(admission.share == 0.5)
        let tokens = TestTokens()
        let router = try await OrderServiceApp.build(
            try OrderServiceConfiguration(environment: tokens.serviceEnvironment()),
            dependencies: .init(
                service: .inMemory(outbox: storage.outbox), store: storage.store, replica: storage.replica,
                changeLog: storage.changeLog, products: storage.products, directory: NoDirectory(),
                catalog: NoDirectory(), admission: admission
            ))
        var headers = TestTokens.bearer(try await tokens.customer(customer.customerID))
        headers[.contentType] = "application/json"
        var statuses: [HTTPResponse.Status] = []
        for _ in 0..<4 {
            let response = try await router.respond(
                .post, "/orders", headers: headers,
                body:
                    #"{"customer_id": "\#(customer.customerID)", "items": [{"sku": "TEA-1", "quantity": 1}]}"#
            )
            statuses.append(response.status)
            if response.status == .serviceUnavailable {
                #expect(response.headers[.retryAfter] == "1")
                #expect(
                    ((response.json as? [String: Any])?["error"] as? [String: Any])?["code"] as? String == "overloaded")
            }
        }
        #expect(statuses == [.created, .created, .serviceUnavailable, .created])
        #expect(
            try await storage.store.orders(page: PageRequest(limit: 10), customerID: nil).count == 3,
            "a shed order was written")
    }
}
