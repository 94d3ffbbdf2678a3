import Contracts
import Foundation
import MercatoTesting
import Testing

/// The live page in a real headless Chromium against the real services: orders placed over
/// HTTP while it is open appear and turn invoiced, the counters match, it says when
/// order-service is gone and catches up when it is back, and no script error is logged.
@Suite(.needsSystem, .systemSlot, .serialized, .timeLimit(.minutes(10)))
struct LivePageBrowserTests {
    static func rows(_ state: [String: Any]) -> [[String: Any]] { state["rows"] as? [[String: Any]] ?? [] }

    /// Console messages of level SEVERE other than failed requests (which a stopped server
    /// causes on purpose): script errors, CSP violations.
    static func scriptErrors(_ state: [String: Any]) -> [String] {
        let console = (state["console"] as? [[String: Any]] ?? []).filter { $0["source"] as? String != "network" }
        return console.map { "\($0["source"] ?? ""): \($0["message"] ?? "")" } + (state["errors"] as? [String] ?? [])
    }

    @Test func ordersAppearTurnInvoicedAndThePageSurvivesARestart() async throws {
        let system = try await MercatoSystem.start()
        let base = "http://127.0.0.1:\(system.ports[.order]!)"
        // The token rides in the fragment, which no server or proxy sees; the page moves it
        // to session storage and out of the address bar.
        let page = try LivePage(url: "\(base)/live#token=\(system.adminToken)")
        defer { page.close() }
        let opened = try await page.waitFor("connected", timeout: .seconds(60)) {
            $0["connection"] as? String == "connected"
        }
        #expect(opened["url"] as? String == "\(base)/live", "the token is gone from the address bar")

        let first = try await LiveStreamSystemTests.place(12, on: system)
        try await system.expectSettled(orders: 12)
        let shown = try await page.waitFor("12 invoiced orders") { state in
            let rows = Self.rows(state)
            return state["invoiced"] as? String == "12" && state["created"] as? String == "0"
                && Set(rows.compactMap { $0["id"] as? String }) == Set(first)
                && rows.allSatisfy {
                    $0["status"] as? String == "invoiced" && ($0["invoice"] as? String)?.hasPrefix("INV-") == true
                }
        }
        #expect(shown["p50"] as? String != "–", "order→invoice latency is shown")
        let queues = try await page.waitFor("the queues") {
            (($0["queues"] as? [[String: Any]])?.count ?? 0) == QueueName.consumerQueues.count
        }
        for queue in queues["queues"] as? [[String: Any]] ?? [] {
            #expect(queue["highlighted"] as? String == "", "an empty queue is not highlighted: \(queue)")
        }

        // order-service goes away: the page says so, and catches up once it is back.
        await system.stop(.order)
        try await page.waitFor("disconnected", timeout: .seconds(60)) { $0["connection"] as? String == "disconnected" }
        try await system.restart(.order)
        try await page.waitFor("connected again", timeout: .seconds(60)) { $0["connection"] as? String == "connected" }
        let second = try await LiveStreamSystemTests.place(5, on: system)
        try await system.expectSettled(orders: 17)
        let caughtUp = try await page.waitFor("17 invoiced orders") { state in
            let ids = Set(Self.rows(state).compactMap { $0["id"] as? String })
            return state["invoiced"] as? String == "17" && Set(second).isSubset(of: ids)
        }
        #expect((caughtUp["chart_points"] as? Int ?? 0) > 0, "the chart has points")

        // The order's later life: one paid, one cancelled, each shown in place and counted.
        let (_, list) = try await system.request(.invoice, "GET", "/invoices?order_id=\(second[0])")
        let invoice = try #require(((list as? [String: Any])?["data"] as? [[String: Any]])?.first)
        let (paid, _) = try await system.pay(
            invoice["id"] as? String ?? "", amount: invoice["total"] as? String ?? "", key: "live-page")
        #expect(paid == 201)
        let (cancelled, _) = try await system.request(.order, "POST", "/orders/\(second[1])/cancel")
        #expect(cancelled == 200)
        let later = try await page.waitFor("one paid, one cancelled") { state in
            let rows = Self.rows(state)
            return state["paid"] as? String == "1" && state["cancelled"] as? String == "1"
                && state["invoiced"] as? String == "15"
                && rows.contains { $0["id"] as? String == second[0] && $0["status"] as? String == "paid" }
                && rows.contains { $0["id"] as? String == second[1] && $0["status"] as? String == "cancelled" }
        }
        #expect(Self.scriptErrors(later).isEmpty, "no script errors: \(Self.scriptErrors(later))")
        #expect(Self.scriptErrors(caughtUp).isEmpty, "no script errors: \(Self.scriptErrors(caughtUp))")
        await system.shutdown()
    }

    @Test func aDeadLetterIsHighlightedAndAWrongTokenAsksForAnother() async throws {
        let system = try await MercatoSystem.start()
        let base = "http://127.0.0.1:\(system.ports[.order]!)"
        let page = try LivePage(url: "\(base)/live#token=not-a-token")
        defer { page.close() }
        let refused = try await page.waitFor("the sign-in form") { $0["login_visible"] as? Bool == true }
        #expect(Self.scriptErrors(refused).isEmpty, "\(Self.scriptErrors(refused))")
        page.close()

        // A poison message in a consumer queue ends in its .dlq: the page highlights it.
        try await system.publish(try PoisonCatalog.all(tag: "live-page")[0].message)
        let admin = try LivePage(url: "\(base)/live#token=\(system.adminToken)")
        defer { admin.close() }
        let dead = try await admin.waitFor("a highlighted dead letter", timeout: .seconds(60)) { state in
            (state["queues"] as? [[String: Any]] ?? []).contains { $0["highlighted"] as? String == "dead" }
        }
        #expect(Self.scriptErrors(dead).isEmpty, "\(Self.scriptErrors(dead))")
        await system.shutdown()
    }
}
