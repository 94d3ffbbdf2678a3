import Contracts
import Foundation
import MercatoTesting
import ServiceKit
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// `GET /orders/stream`, `GET /orders/{id}/history` and `GET /queues` against the real
/// order-service over real PostgreSQL and RabbitMQ, read by curl.
@Suite(.needsSystem, .systemSlot, .serialized, .timeLimit(.minutes(10)))
struct LiveStreamSystemTests {
    /// Places `count` orders for the seeded customers, `concurrency` at a time; returns their ids.
    static func place(_ count: Int, on system: MercatoSystem, concurrency: Int = 8, port: Int? = nil) async throws
        -> [String]
    {
        try await withThrowingTaskGroup(of: String.self) { group in
            var ids: [String] = []
            for index in 0..<count {
                if index >= concurrency { ids.append(try await group.next()!) }
                group.addTask {
                    let (status, order) = try await system.placeOrder(
                        customer: OrderFlowSystemTests.seeds[index % OrderFlowSystemTests.seeds.count],
                        items: [("Tea", 1 + index % 3, "3.50")])
                    guard status == 201, let id = order["id"] as? String else {
                        throw SystemTestFailure("POST /orders answered \(status): \(order)")
                    }
                    return id
                }
            }
            for try await id in group { ids.append(id) }
            return ids
        }
    }

    func stream(
        _ system: MercatoSystem, port: Int? = nil, query: String = "", token: String? = nil, lastEventID: Int? = nil,
        stopReadingAfter: Int? = nil
    ) throws -> EventStreamClient {
        var headers = ["Authorization": "Bearer \(token ?? system.adminToken)", "Accept": "text/event-stream"]
        if let lastEventID { headers["Last-Event-ID"] = String(lastEventID) }
        return try EventStreamClient(
            url: "http://127.0.0.1:\(port ?? system.ports[.order]!)/orders/stream\(query)", headers: headers,
            stopReadingAfter: stopReadingAfter)
    }

    /// Starts another order-service of `system`, which the test stops itself, and waits until
    /// it is ready.
    static func replica(of system: MercatoSystem) async throws -> (port: Int, process: Process) {
        let (port, process) = try system.launchReplica(.order)
        try await system.eventually("the replica on port \(port) is ready", timeout: .seconds(60)) {
            try await system.request(.order, "GET", "/health/ready", port: port).0 == 200
        }
        return (port, process)
    }

    /// Sends `process` SIGTERM and waits for it to exit; returns whether it exited by itself,
    /// successfully. One still running after `timeout` (a guard against a hang, not a measure
    /// of shutdown's speed) is killed, and that is a `false`.
    static func stopGracefully(_ process: Process, timeout: Duration = .seconds(90)) async -> Bool {
        process.terminate()
        let deadline = ContinuousClock.now + timeout
        while process.isRunning, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(50)) }
        guard !process.isRunning else {
            kill(process.processIdentifier, SIGKILL)
            while process.isRunning { try? await Task.sleep(for: .milliseconds(50)) }
            return false
        }
        return process.terminationReason == .exit && process.terminationStatus == 0
    }

    /// Checks that `events` are consecutive changes from `first`, and each order's
    /// `order.created` comes before its `order.invoiced`, which names the invoice.
    func expectConsecutive(
        _ events: [EventStreamClient.Event], from first: Int, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(
            events.compactMap(\.sequence) == Array(first..<(first + events.count)), "no gap, no repeat",
            sourceLocation: sourceLocation)
        var created: Set<String> = []
        for event in events {
            let order = event.json
            let id = order["id"] as? String ?? "?"
            switch event.event {
            case "order.created":
                #expect(
                    order["status"] as? String == "created" && order["invoice_number"] is NSNull,
                    sourceLocation: sourceLocation)
                created.insert(id)
            case "order.invoiced":
                #expect(
                    created.contains(id), "order.invoiced of \(id) after its order.created",
                    sourceLocation: sourceLocation)
                #expect(order["status"] as? String == "invoiced", sourceLocation: sourceLocation)
                #expect((order["invoice_number"] as? String)?.hasPrefix("INV-") == true, sourceLocation: sourceLocation)
            default:
                Issue.record("unexpected event \(event.event ?? "nil")", sourceLocation: sourceLocation)
            }
        }
    }

    @Test func changesArriveInOrderAndResumeAcrossARestartWithNoGapAndNoRepeat() async throws {
        let system = try await MercatoSystem.start(environment: ["ORDER_STREAM_HEARTBEAT_SECONDS": "1"])
        // The stream is served by an order-service the test starts and stops itself, to see how
        // that process ends; orders go through the system's own.
        let (port, replica) = try await Self.replica(of: system)
        defer { if replica.isRunning { kill(replica.processIdentifier, SIGKILL) } }
        // From the start of history: every change, one event each.
        let client = try stream(system, port: port, query: "?after=0")
        try await client.waitFor("the stream to open") { !$0.isEmpty }
        #expect(client.status == 200 && client.headers["content-type"]?.hasPrefix("text/event-stream") == true)
        let first = try await Self.place(5, on: system)
        let events = try await client.waitFor("10 changes") { $0.filter { $0.id != nil }.count >= 10 }.filter {
            $0.id != nil
        }
        expectConsecutive(events, from: 1)
        #expect(Set(events.compactMap { $0.json["id"] as? String }) == Set(first))
        let order = events[0].json
        #expect(
            (order["items"] as? [[String: Any]])?.first?["product_name"] as? String == "Tea",
            "the order as GET /orders/{id} shows it")
        #expect((order["customer"] as? [String: Any])?["name"] is String)
        // An idle stream gets heartbeats (every second here).
        try await client.waitFor("a heartbeat") { $0.contains { $0.comment == "heartbeat" } }

        // order-service stops: the open stream ends with it (graceful shutdown does not wait
        // for streams, so the process exits by itself), and another one starts, with none of
        // the changes in memory.
        #expect(
            await Self.stopGracefully(replica),
            "order-service exits by itself on SIGTERM: an open stream does not hold up shutdown")
        try await client.waitForEnd()
        let last = try #require(client.changes.last?.sequence)
        let (restartedPort, restarted) = try await Self.replica(of: system)
        defer { if restarted.isRunning { kill(restarted.processIdentifier, SIGKILL) } }
        let second = try await Self.place(5, on: system)
        try await system.expectSettled(orders: 10)

        // Resuming after the last event seen gives exactly the changes since, from the database.
        let resumed = try stream(system, port: restartedPort, lastEventID: last)
        let more = try await resumed.waitFor("the 10 changes since \(last)") { $0.filter { $0.id != nil }.count >= 10 }
            .filter { $0.id != nil }
        expectConsecutive(more, from: last + 1)
        #expect(Set(more.compactMap { $0.json["id"] as? String }) == Set(second))
        // A heartbeat is written only once the stream has sent every change there is: one
        // after the tenth means the ten are all it will send.
        let caughtUp = try await resumed.waitFor("a heartbeat after the 10 changes") { events in
            guard let tenth = events.firstIndex(where: { $0.sequence == last + 10 }) else { return false }
            return events[tenth...].contains { $0.comment == "heartbeat" }
        }
        #expect(caughtUp.filter { $0.id != nil }.count == 10, "nothing repeated or invented")

        // ?after= does the same as Last-Event-ID; a bad position is a 400 naming it.
        let after = try stream(system, query: "?after=\(last + 5)")
        try await after.waitFor("the last 5 changes") { $0.filter { $0.id != nil }.count >= 5 }
        #expect(after.changes.first?.sequence == last + 6)
        for (query, field) in [
            ("?after=-1", "after"), ("?after=x", "after"), ("?view=everything", "view"),
            ("?view=summary&interval_ms=5", "interval_ms"),
        ] {
            let (status, body) = try await system.request(.order, "GET", "/orders/stream\(query)")
            #expect(
                status == 400 && ((body as? [String: Any])?["error"] as? [String: Any])?["field"] as? String == field,
                "\(query)")
        }
        for client in [client, resumed, after] { client.stop() }
        #expect(await Self.stopGracefully(restarted))
        await system.shutdown()
    }

    @Test func streamsHistoryAndQueuesHonourTokensAndOwnership() async throws {
        let system = try await MercatoSystem.start()
        let ada = try #require(UUID(uuidString: OrderFlowSystemTests.seeds[0]))
        let adaToken = try await system.tokens.customer(ada)
        let (noToken, _) = try await system.request(.order, "GET", "/orders/stream", headers: ["Authorization": ""])
        #expect(noToken == 401)
        let (unscoped, _) = try await system.request(
            .order, "GET", "/orders/stream",
            headers: [
                "Authorization": "Bearer \(try await system.tokens.token(sub: ada.uuidString, scopes: [.ordersWrite]))"
            ])
        #expect(unscoped == 403)

        let adaStream = try stream(system, token: adaToken)
        let adminStream = try stream(system)
        try await adaStream.waitFor("Ada's stream to open") { !$0.isEmpty }
        try await adminStream.waitFor("the admin stream to open") { !$0.isEmpty }
        let ids = try await Self.place(6, on: system)  // 2 of them Ada's
        try await system.expectSettled(orders: 6)
        try await adminStream.waitFor("every change") { $0.filter { $0.id != nil }.count >= 12 }
        try await adaStream.waitFor("Ada's changes") { $0.filter { $0.id != nil }.count >= 4 }
        // Ada orders once more: once its change reaches her stream, every change before it has
        // been through her stream's filter, and only her 4 came through.
        let (placed, marker) = try await system.placeOrder(customer: ada.uuidString, items: [("Tea", 1, "3.50")])
        let markerID = try #require(marker["id"] as? String, "POST /orders answered \(placed)")
        let seen = try await adaStream.waitFor("Ada's new order") {
            $0.contains { $0.json["id"] as? String == markerID }
        }.filter { $0.id != nil }
        let adas = Array(seen.prefix { $0.json["id"] as? String != markerID })
        #expect(adas.count == 4 && seen.allSatisfy { $0.json["customer_id"] as? String == ada.uuidString.lowercased() })
        try await system.expectSettled(orders: 7)

        // History: an order's changes with times, for its customer and admins only.
        let adasOrder = try #require(adas.first?.json["id"] as? String)
        let adaOrders = Set(adas.compactMap { $0.json["id"] as? String })
        let othersOrder = try #require(ids.first { !adaOrders.contains($0) })
        // A change is numbered, and in the history, once every older transaction has ended.
        var changes: [[String: Any]] = []
        try await system.eventually("the history of Ada's order has both changes") {
            let (status, body) = try await system.request(
                .order, "GET", "/orders/\(adasOrder)/history", headers: ["Authorization": "Bearer \(adaToken)"])
            changes = (body as? [String: Any])?["changes"] as? [[String: Any]] ?? []
            return status == 200 && changes.map { $0["event"] as? String } == ["order.created", "order.invoiced"]
        }
        #expect(changes.allSatisfy { $0["at"] is String && $0["sequence"] is Int })
        #expect(changes.last?["invoice_number"] as? String != nil)
        #expect(
            try await system.request(
                .order, "GET", "/orders/\(othersOrder)/history", headers: ["Authorization": "Bearer \(adaToken)"]
            ).0 == 404)
        #expect(try await system.request(.order, "GET", "/orders/\(othersOrder)/history").0 == 200)
        #expect(try await system.request(.order, "GET", "/orders/\(UUID().uuidString)/history").0 == 404)

        // Queue health, from the broker, for admins.
        #expect(
            try await system.request(.order, "GET", "/queues", headers: ["Authorization": "Bearer \(adaToken)"]).0
                == 403)
        let (queuesStatus, queuesBody) = try await system.request(.order, "GET", "/queues")
        let queues = try #require((queuesBody as? [String: Any])?["queues"] as? [[String: Any]])
        #expect(queuesStatus == 200 && queues.count == QueueName.consumerQueues.count)
        for report in queues {
            let queue = try #require(report["queue"] as? [String: Any])
            let dead = try #require(report["dead_letters"] as? [String: Any])
            #expect(queue["consumers"] as? Int == 1 && queue["messages"] as? Int == 0, "\(queue)")
            #expect(dead["messages"] as? Int == 0 && (dead["name"] as? String)?.hasSuffix(".dlq") == true, "\(dead)")
        }
        adaStream.stop()
        adminStream.stop()
        await system.shutdown()
    }

    @Test func aClientThatStopsReadingIsDisconnectedAndResumesWithoutAGap() async throws {
        let window = 1000
        let batch = 200
        let system = try await MercatoSystem.start(environment: ["ORDER_STREAM_WINDOW": String(window)])
        // One client reads its first 16 KB and then nothing; another reads everything as it comes.
        let stopped = try stream(system, stopReadingAfter: 16_384)
        let reader = try stream(system)
        try await stopped.waitFor("the stopping client's stream to open") { !$0.isEmpty }
        try await reader.waitFor("the reader's stream to open") { !$0.isEmpty }
        // Orders, `batch` at a time, each batch's changes (created and invoiced) read by
        // `reader` before the next: no stream that keeps up is ever more than 2 × batch plus
        // one write (256) changes behind, inside the window, so `reader` stays. The stopped
        // client's writes wait once the socket buffers (a few MB at most) are full, and it is
        // dropped once the window has moved past the write: a number of orders that does not
        // depend on how fast the machine is.
        var placed = 0
        while !stopped.hasEnded {
            // The socket buffers take at most a few MB: with the window, about 3,500 orders.
            guard placed < 10_000 else {
                Issue.record("the client that stopped reading was not dropped after \(placed) orders")
                break
            }
            placed += try await Self.place(batch, on: system, concurrency: 16).count
            try await reader.waitFor("all \(2 * placed) changes") { $0.filter { $0.id != nil }.count >= 2 * placed }
        }
        let total = 2 * placed
        try await system.expectSettled(orders: placed)
        let head = stopped.changes
        progress(
            "the client that stopped reading was dropped after \(placed) orders; it had \(head.count) of their \(total) changes"
        )
        #expect(head.count < total, "disconnected before it saw everything")
        expectConsecutive(head, from: 1)
        let all = reader.changes
        #expect(!reader.hasEnded && all.count == total, "the reader that kept up is still connected, with every change")
        expectConsecutive(all, from: 1)

        // Resuming after its last event gives the rest, from the database: a read whose
        // deadline grows with what there is to read.
        let last = head.last?.sequence ?? 0
        let resumed = try stream(system, lastEventID: last)
        let rest = try await resumed.waitFor("the rest", timeout: .seconds(90) + .milliseconds(20 * (total - last))) {
            $0.filter { $0.id != nil }.count >= total - last
        }.filter { $0.id != nil }
        #expect(rest.compactMap(\.sequence) == Array((last + 1)...total))
        for client in [stopped, reader, resumed] { client.stop() }
        await system.shutdown()
    }

    /// `ORDER_STREAM_MAX_PER_CALLER` streams per token subject at once: one more is a 429 with
    /// the JSON error and `Retry-After`, other callers are not affected, and a stream's slot
    /// is free again once its client has gone (its next heartbeat finds out).
    @Test func streamsPerCallerAreCappedAndFreedWhenTheClientGoes() async throws {
        let system = try await MercatoSystem.start(environment: [
            "ORDER_STREAM_MAX_PER_CALLER": "2", "ORDER_STREAM_HEARTBEAT_SECONDS": "1",
        ])
        let ada = try await system.tokens.customer(try #require(UUID(uuidString: OrderFlowSystemTests.seeds[0])))
        let bob = try await system.tokens.customer(try #require(UUID(uuidString: OrderFlowSystemTests.seeds[1])))
        let adas = [try stream(system, token: ada), try stream(system, query: "?view=summary", token: ada)]
        for client in adas { try await client.waitFor("Ada's stream to open") { !$0.isEmpty } }
        #expect(adas.allSatisfy { $0.status == 200 })

        // curl, bounded: a stream that is (wrongly) let through would never end.
        let third = try await runProcess(
            [
                "curl", "-s", "--max-time", "5", "-w", "\n%{http_code}", "-H", "Authorization: Bearer \(ada)",
                "http://127.0.0.1:\(system.ports[.order]!)/orders/stream",
            ], timeout: .seconds(30))
        let lines = third.output.split(separator: "\n")
        #expect(lines.last == "429", "a third stream of Ada's: \(third.output)")
        let body = lines.first.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect((body?["error"] as? [String: Any])?["code"] as? String == "too_many_streams", "\(third.output)")
        let refused = try stream(system, token: ada)
        try await refused.waitForEnd(timeout: .seconds(30))
        #expect(refused.status == 429 && Int(refused.headers["retry-after"] ?? "") ?? 0 > 0, "\(refused.headers)")

        let bobs = try stream(system, token: bob)
        try await bobs.waitFor("Bob's stream to open") { !$0.isEmpty }
        #expect(bobs.status == 200, "another caller's streams are not Ada's")

        // Ada's client goes away: once order-service notices, her slot is free.
        adas[0].stop()
        var reopened: EventStreamClient?
        try await system.eventually("Ada's slot to be free again", timeout: .seconds(30)) {
            let client = try stream(system, token: ada)
            try await client.waitFor("an answer", timeout: .seconds(10)) { _ in client.status != nil }
            guard client.status == 200 else { return false }
            reopened = client
            return true
        }
        try await reopened?.waitFor("the reopened stream's greeting") { !$0.isEmpty }
        for client in [adas[1], bobs, refused] + [reopened].compactMap({ $0 }) { client.stop() }
        await system.shutdown()
    }

    @Test func everyReplicaStreamsEveryChange() async throws {
        let system = try await MercatoSystem.start()
        let (port, replica) = try system.launchReplica(.order)
        defer { if replica.isRunning { kill(replica.processIdentifier, SIGKILL) } }
        try await system.eventually("the second replica is ready", timeout: .seconds(60)) {
            let (data, response) = try await MercatoSystem.session.data(
                from: URL(string: "http://127.0.0.1:\(port)/health/ready")!)
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
            let events = try await client.waitFor("all 40 changes") { $0.filter { $0.id != nil }.count >= 40 }.filter {
                $0.id != nil
            }
            expectConsecutive(events, from: 1)
            #expect(Set(events.compactMap { $0.json["id"] as? String }) == Set(ids))
        }
        first.stop()
        second.stop()
        kill(replica.processIdentifier, SIGKILL)
        await system.shutdown()
    }
}
