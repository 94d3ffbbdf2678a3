import Contracts
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import MercatoTesting
import ServiceKit
import Testing

/// `GET /orders/stream`, `GET /orders/{id}/history` and `GET /queues` against the real
/// order-service over real PostgreSQL and RabbitMQ, read by curl.
@Suite(.needsSystem, .serialized, .timeLimit(.minutes(10)))
struct LiveStreamSystemTests {
    /// Places `count` orders for the seeded customers, `concurrency` at a time; returns their ids.
    static func place(_ count: Int, on system: MercatoSystem, concurrency: Int = 8, port: Int? = nil) async throws -> [String] {
        try await withThrowingTaskGroup(of: String.self) { group in
            var ids: [String] = []
            for index in 0..<count {
                if index >= concurrency { ids.append(try await group.next()!) }
                group.addTask {
                    let (status, order) = try await system.placeOrder(
                        customer: OrderFlowSystemTests.seeds[index % OrderFlowSystemTests.seeds.count], items: [("Tea", 1 + index % 3, "3.50")])
                    guard status == 201, let id = order["id"] as? String else { throw SystemTestFailure("POST /orders answered \(status): \(order)") }
                    return id
                }
            }
            for try await id in group { ids.append(id) }
            return ids
        }
    }

    func stream(_ system: MercatoSystem, port: Int? = nil, query: String = "", token: String? = nil, lastEventID: Int? = nil, slow: Bool = false) throws -> EventStreamClient {
        var headers = ["Authorization": "Bearer \(token ?? system.adminToken)", "Accept": "text/event-stream"]
        if let lastEventID { headers["Last-Event-ID"] = String(lastEventID) }
        return try EventStreamClient(
            url: "http://127.0.0.1:\(port ?? system.ports[.order]!)/orders/stream\(query)", headers: headers, slow: slow)
    }

    /// Checks that `events` are consecutive changes from `first`, and each order's
    /// `order.created` comes before its `order.invoiced`, which names the invoice.
    func expectConsecutive(_ events: [EventStreamClient.Event], from first: Int, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(events.compactMap(\.sequence) == Array(first..<(first + events.count)), "no gap, no repeat", sourceLocation: sourceLocation)
        var created: Set<String> = []
        for event in events {
            let order = event.json
            let id = order["id"] as? String ?? "?"
            switch event.event {
            case "order.created":
                #expect(order["status"] as? String == "created" && order["invoice_number"] is NSNull, sourceLocation: sourceLocation)
                created.insert(id)
            case "order.invoiced":
                #expect(created.contains(id), "order.invoiced of \(id) after its order.created", sourceLocation: sourceLocation)
                #expect(order["status"] as? String == "invoiced", sourceLocation: sourceLocation)
                #expect((order["invoice_number"] as? String)?.hasPrefix("INV-") == true, sourceLocation: sourceLocation)
            default:
                Issue.record("unexpected event \(event.event ?? "nil")", sourceLocation: sourceLocation)
            }
        }
    }

    @Test func changesArriveInOrderAndResumeAcrossARestartWithNoGapAndNoRepeat() async throws {
        let system = try await MercatoSystem.start(environment: ["ORDER_STREAM_HEARTBEAT_SECONDS": "1"])
        // From the start of history: every change, one event each.
        let client = try stream(system, query: "?after=0")
        try await client.waitFor("the stream to open") { !$0.isEmpty }
        #expect(client.status == 200 && client.headers["content-type"]?.hasPrefix("text/event-stream") == true)
        let first = try await Self.place(5, on: system)
        let events = try await client.waitFor("10 changes") { $0.filter { $0.id != nil }.count >= 10 }.filter { $0.id != nil }
        expectConsecutive(events, from: 1)
        #expect(Set(events.compactMap { $0.json["id"] as? String }) == Set(first))
        let order = events[0].json
        #expect((order["items"] as? [[String: Any]])?.first?["product_name"] as? String == "Tea", "the order as GET /orders/{id} shows it")
        #expect((order["customer"] as? [String: Any])?["name"] is String)
        // An idle stream gets heartbeats (every second here).
        try await client.waitFor("a heartbeat", timeout: .seconds(5)) { $0.contains { $0.comment == "heartbeat" } }

        // order-service stops: the open stream ends with it (graceful shutdown does not wait
        // for streams), and it restarts.
        let stopping = ContinuousClock.now
        await system.stop(.order)
        #expect(ContinuousClock.now - stopping < .seconds(10), "open streams do not hold up shutdown")
        try await client.waitForEnd()
        let last = try #require(client.changes.last?.sequence)
        try await system.restart(.order)
        let second = try await Self.place(5, on: system)
        try await system.expectSettled(orders: 10)

        // Resuming after the last event seen gives exactly the changes since, from the database.
        let resumed = try stream(system, lastEventID: last)
        let more = try await resumed.waitFor("the 10 changes since \(last)") { $0.filter { $0.id != nil }.count >= 10 }.filter { $0.id != nil }
        expectConsecutive(more, from: last + 1)
        #expect(Set(more.compactMap { $0.json["id"] as? String }) == Set(second))
        try await Task.sleep(for: .seconds(1))
        #expect(resumed.changes.count == 10, "nothing repeated or invented")

        // ?after= does the same as Last-Event-ID; a bad position is a 400 naming it.
        let after = try stream(system, query: "?after=\(last + 5)")
        try await after.waitFor("the last 5 changes") { $0.filter { $0.id != nil }.count >= 5 }
        #expect(after.changes.first?.sequence == last + 6)
        for (query, field) in [("?after=-1", "after"), ("?after=x", "after"), ("?view=everything", "view"), ("?view=summary&interval_ms=5", "interval_ms")] {
            let (status, body) = try await system.request(.order, "GET", "/orders/stream\(query)")
            #expect(status == 400 && ((body as? [String: Any])?["error"] as? [String: Any])?["field"] as? String == field, "\(query)")
        }
        for client in [client, resumed, after] { client.stop() }
        await system.shutdown()
    }

    @Test func streamsHistoryAndQueuesHonourTokensAndOwnership() async throws {
        let system = try await MercatoSystem.start()
        let ada = try #require(UUID(uuidString: OrderFlowSystemTests.seeds[0]))
        let adaToken = try await system.tokens.customer(ada)
        let (noToken, _) = try await system.request(.order, "GET", "/orders/stream", headers: ["Authorization": ""])
        #expect(noToken == 401)
        let (unscoped, _) = try await system.request(
            .order, "GET", "/orders/stream", headers: ["Authorization": "Bearer \(try await system.tokens.token(sub: ada.uuidString, scopes: [.ordersWrite]))"])
        #expect(unscoped == 403)

        let adaStream = try stream(system, token: adaToken)
        let adminStream = try stream(system)
        try await adaStream.waitFor("Ada's stream to open") { !$0.isEmpty }
        try await adminStream.waitFor("the admin stream to open") { !$0.isEmpty }
        let ids = try await Self.place(6, on: system)  // 2 of them Ada's
        try await system.expectSettled(orders: 6)
        try await adminStream.waitFor("every change") { $0.filter { $0.id != nil }.count >= 12 }
        let adas = try await adaStream.waitFor("Ada's changes") { $0.filter { $0.id != nil }.count >= 4 }.filter { $0.id != nil }
        try await Task.sleep(for: .milliseconds(500))
        #expect(adaStream.changes.count == 4 && adas.allSatisfy { $0.json["customer_id"] as? String == ada.uuidString.lowercased() })

        // History: an order's changes with times, for its customer and admins only.
        let adasOrder = try #require(adas.first?.json["id"] as? String)
        let adaOrders = Set(adas.compactMap { $0.json["id"] as? String })
        let othersOrder = try #require(ids.first { !adaOrders.contains($0) })
        let (status, body) = try await system.request(.order, "GET", "/orders/\(adasOrder)/history", headers: ["Authorization": "Bearer \(adaToken)"])
        let changes = try #require((body as? [String: Any])?["changes"] as? [[String: Any]])
        #expect(status == 200 && changes.map { $0["event"] as? String } == ["order.created", "order.invoiced"])
        #expect(changes.allSatisfy { $0["at"] is String && $0["sequence"] is Int })
        #expect(changes.last?["invoice_number"] as? String != nil)
        #expect(try await system.request(.order, "GET", "/orders/\(othersOrder)/history", headers: ["Authorization": "Bearer \(adaToken)"]).0 == 404)
        #expect(try await system.request(.order, "GET", "/orders/\(othersOrder)/history").0 == 200)
        #expect(try await system.request(.order, "GET", "/orders/\(UUID().uuidString)/history").0 == 404)

        // Queue health, from the broker, for admins.
        #expect(try await system.request(.order, "GET", "/queues", headers: ["Authorization": "Bearer \(adaToken)"]).0 == 403)
        let (queuesStatus, queuesBody) = try await system.request(.order, "GET", "/queues")
        let queues = try #require((queuesBody as? [String: Any])?["queues"] as? [[String: Any]])
        #expect(queuesStatus == 200 && queues.count == QueueName.consumerQueues.count)
        for report in queues {
            let queue = try #require(report["queue"] as? [String: Any]), dead = try #require(report["dead_letters"] as? [String: Any])
            #expect(queue["consumers"] as? Int == 1 && queue["messages"] as? Int == 0, "\(queue)")
            #expect(dead["messages"] as? Int == 0 && (dead["name"] as? String)?.hasSuffix(".dlq") == true, "\(dead)")
        }
        adaStream.stop()
        adminStream.stop()
        await system.shutdown()
    }

    @Test func aClientThatFallsTooFarBehindIsDisconnectedAndResumesWithoutAGap() async throws {
        let system = try await MercatoSystem.start(environment: ["ORDER_STREAM_WINDOW": "200"])
        // A client that reads 20 KB/s through a small buffer: the server's writes soon wait.
        let slow = try stream(system, slow: true)
        try await slow.waitFor("the slow stream to open") { !$0.isEmpty }
        // Orders until the server has dropped it: the kernel's socket buffers (up to a few
        // MB) take the first changes before any write waits.
        var placed = 0
        while !slow.hasEnded, placed < 20_000 {
            placed += try await Self.place(1000, on: system, concurrency: 16).count
        }
        try await system.expectSettled(orders: placed)
        try await slow.waitForEnd(timeout: .seconds(120))
        let head = slow.changes
        #expect(head.count < 2 * placed, "disconnected before it saw everything")
        expectConsecutive(head, from: 1)
        let last = head.last?.sequence ?? 0
        let total = 2 * placed

        let resumed = try stream(system, lastEventID: last)
        let rest = try await resumed.waitFor("the rest", timeout: .seconds(60)) { $0.filter { $0.id != nil }.count >= total - last }
            .filter { $0.id != nil }
        #expect(rest.compactMap(\.sequence) == Array((last + 1)...total))
        resumed.stop()
        await system.shutdown()
    }

    @Test func everyReplicaStreamsEveryChange() async throws {
        let system = try await MercatoSystem.start()
        let (port, replica) = try system.launchReplica(.order)
        defer { if replica.isRunning { kill(replica.processIdentifier, SIGKILL) } }
        try await system.eventually("the second replica is ready", timeout: .seconds(60)) {
            let (data, response) = try await MercatoSystem.session.data(from: URL(string: "http://127.0.0.1:\(port)/health/ready")!)
            _ = data
            return (response as? HTTPURLResponse)?.statusCode == 200
        }
        let first = try stream(system)
        let second = try stream(system, port: port)
        try await first.waitFor("the first replica's stream") { !$0.isEmpty }
        try await second.waitFor("the second replica's stream") { !$0.isEmpty }
        // Every order goes through the first replica; the second sees them from the database.
        let ids = try await Self.place(20, on: system)
        try await system.expectSettled(orders: 20)
        for client in [first, second] {
            let events = try await client.waitFor("all 40 changes") { $0.filter { $0.id != nil }.count >= 40 }.filter { $0.id != nil }
            expectConsecutive(events, from: 1)
            #expect(Set(events.compactMap { $0.json["id"] as? String }) == Set(ids))
        }
        first.stop()
        second.stop()
        kill(replica.processIdentifier, SIGKILL)
        await system.shutdown()
    }
}
