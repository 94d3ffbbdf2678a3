import Broker
import BrokerTesting
import ContractTesting
import Contracts
import Foundation
import HTTPTypes
import Hummingbird
import Locking
import Logging
import MercatoTesting
import ServiceKit
import ServiceTesting
import Testing

@testable import OrderService

/// The live view's parts over the in-memory storage: the feed's window, a stream session's
/// catch-up, filtering and slow-client bound, the summary, and the routes' answers. Waits
/// guard against hangs only (a minute), and the time limit leaves them room to say what hung.
@Suite(.timeLimit(.minutes(3)))
struct LiveViewTests {
    let storage = MemoryOrderStorage()
    let logger = Logger(label: "tests")

    func feed(window: Int) -> OrderChangeFeed {
        var configuration = OrderChangeFeed.Configuration()
        configuration.window = window
        return OrderChangeFeed(
            changeLog: storage.changeLog, listener: nil, configuration: configuration, logger: logger)
    }

    /// Places `count` orders of `customer`; returns them.
    @discardableResult
    func place(_ count: Int, customer: UUID = UUID()) async throws -> [Order] {
        var orders: [Order] = []
        for _ in 0..<count {
            let now = Date()
            let order = Order(
                id: UUID(), customerID: customer, status: .created,
                items: [OrderLine(productName: "Tea", quantity: 1, unitPrice: Money("3.50")!)],
                total: Money("3.50")!, createdAt: now, updatedAt: now)
            orders.append(try await storage.store.place(order, idempotency: nil, traceparent: nil).order)
        }
        return orders
    }

    func invoice(_ order: Order, number: String) async throws {
        let payload = InvoiceCreated(
            invoiceID: UUID(), invoiceNumber: number, orderID: order.id, customerID: order.customerID, lines: [],
            subtotal: .zero, taxRate: 0,
            tax: .zero, total: .zero, issuedAt: Date())
        let event = try IncomingEvent(CloudEvent(source: "/tests", data: payload))
        try await storage.store.markInvoiced([
            InvoicedOrder(event: event, orderID: order.id, invoiceID: payload.invoiceID, invoiceNumber: number)
        ])
    }

    /// Runs a session until `until` holds for what it wrote, then stops it as a client
    /// going away would; returns what it wrote and how it ended.
    func run(
        _ session: OrderStreamSession, until: @escaping @Sendable (String) -> Bool
    ) async throws -> (text: String, end: OrderStreamSession.End) {
        let written = Locked("")
        let task = Task {
            try await session.run(watchInterval: .milliseconds(10)) { text in written.withLock { $0 += text } }
        }
        try await waitUntil("the session wrote what was expected", timeout: .seconds(60)) {
            until(written.withLock { $0 })
        }
        task.cancel()
        let end = try await task.value
        return (written.withLock { $0 }, end)
    }

    static func ids(_ text: String) -> [Int64] {
        text.split(separator: "\n").filter { $0.hasPrefix("id: ") }.compactMap { Int64($0.dropFirst(4)) }
    }

    func session(
        _ feed: OrderChangeFeed, customer: UUID? = nil, view: OrderStreamSession.View,
        disconnect: @escaping @Sendable () -> Void = {}
    )
        -> OrderStreamSession
    {
        var configuration = OrderStreamSession.Configuration()
        configuration.batchSize = 2
        configuration.heartbeat = .seconds(3600)
        return OrderStreamSession(
            feed: feed, changeLog: storage.changeLog, visibility: customer.map(Visibility.customer) ?? .all, view: view,
            configuration: configuration,
            disconnect: disconnect)
    }

    @Test func eventsAreWrittenInTheServerSentEventsFormat() {
        let event = ServerSentEvent(id: "7\n8", event: "order.created", data: "{\"a\":1}\nsecond")
        #expect(event.text == "id: 7 8\nevent: order.created\ndata: {\"a\":1}\ndata: second\n\n")
        #expect(ServerSentEvent(comment: "heartbeat").text == ": heartbeat\n\n")
        #expect(ServerSentEvent(comment: "hello", retryMilliseconds: 2000).text == ": hello\nretry: 2000\n\n")
    }

    @Test func theFeedKeepsAWindowOfTheLatestChanges() async throws {
        let feed = feed(window: 3)
        #expect(feed.head == nil)
        let watcher = feed.subscribe()  // the window fills only while someone watches
        guard case .behind = feed.read(after: 0, limit: 10) else {
            Issue.record("before it starts, everything is behind")
            return
        }
        try await place(2)
        try await feed.catchUp()
        #expect(feed.head == 2, "it starts at the latest change")
        guard case .upToDate = feed.read(after: 2, limit: 10) else {
            Issue.record("nothing new yet")
            return
        }
        guard case .behind(let start) = feed.read(after: 1, limit: 10), start == 3 else {
            Issue.record("older than the window")
            return
        }
        try await place(5)
        try await feed.catchUp()
        #expect(feed.head == 7)
        guard case .changes(let latest) = feed.read(after: 4, limit: 10) else {
            Issue.record("in the window")
            return
        }
        #expect(latest.map(\.sequence) == [5, 6, 7])
        guard case .changes(let limited) = feed.read(after: 5, limit: 1) else {
            Issue.record("in the window")
            return
        }
        #expect(limited.map(\.sequence) == [6])
        guard case .behind(let windowStart) = feed.read(after: 3, limit: 10) else {
            Issue.record("fell out of the window")
            return
        }
        #expect(windowStart == 5)
        // Nobody watching: the window empties and only follows the latest number.
        feed.unsubscribe(watcher.id)
        try await place(2)
        try await feed.catchUp()
        #expect(feed.head == 9)
        guard case .behind(let emptyStart) = feed.read(after: 7, limit: 10), emptyStart == 10 else {
            Issue.record("an empty window")
            return
        }
    }

    @Test func aSessionCatchesUpFromTheDatabaseThenReadsTheWindowWithNoGapAndNoRepeat() async throws {
        let feed = feed(window: 3)
        _ = feed.subscribe()
        try await place(3)
        try await feed.catchUp()
        try await place(4)  // 4…7: beyond the window (3), so 1…4 come from the database
        try await feed.catchUp()
        let (text, end) = try await run(session(feed, view: .changes(after: 0))) { Self.ids($0).count >= 7 }
        #expect(Self.ids(text) == Array(1...7))
        #expect(end == .stopped)
        #expect(text.hasPrefix(": mercato order stream\nretry: 2000\n\n"))
        #expect(text.contains("event: order.created\ndata: {"))
    }

    @Test func aCustomersSessionSeesItsOwnOrdersOnly() async throws {
        let feed = feed(window: 100)
        _ = feed.subscribe()
        try await feed.catchUp()
        let ada = UUID()
        let adas = try await place(2, customer: ada)
        try await place(3)
        try await invoice(adas[0], number: "INV-2026-000001")
        try await feed.catchUp()
        let (text, _) = try await run(session(feed, customer: ada, view: .changes(after: 0))) {
            Self.ids($0).count >= 3
        }
        #expect(Self.ids(text) == [1, 2, 6])
        #expect(text.contains("event: order.invoiced") && text.contains("INV-2026-000001"))
        #expect(!text.contains(UUID().uuidString.lowercased()))
    }

    @Test func aSessionWhoseWriteWaitsWhileItsPositionLeavesTheWindowIsDisconnected() async throws {
        let feed = feed(window: 2)
        _ = feed.subscribe()
        try await feed.catchUp()
        try await place(1)
        try await feed.catchUp()
        // A client that takes the greeting and then stops reading: its next write waits
        // until the connection is dropped.
        let dropped = Locked<CheckedContinuation<Void, any Error>?>(nil)
        let disconnects = Locked(0)
        let writes = Locked(0)
        let session = session(feed, view: .changes(after: 0)) {
            disconnects.withLock { $0 += 1 }
            dropped.withLock { $0 }?.resume(throwing: CancellationError())
        }
        let task = Task {
            try await session.run(watchInterval: .milliseconds(10)) { _ in
                let count = writes.withLock { count in
                    count += 1
                    return count
                }
                guard count > 1 else { return }
                try await withCheckedThrowingContinuation { continuation in dropped.withLock { $0 = continuation } }
            }
        }
        try await waitUntil("the first change's write waits", timeout: .seconds(60)) { dropped.withLock { $0 != nil } }
        try await place(3)  // its position (0) leaves the window of 2
        try await feed.catchUp()
        #expect(try await task.value == .fellBehind)
        #expect(disconnects.withLock { $0 } == 1)
    }

    @Test func theSummaryCountsRatesLatencyAndTheLatestOrders() async throws {
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        var summary = LiveSummary(counts: OrderStatusCounts(counts: [.created: 2, .invoiced: 5], sequence: 9))
        var orders: [Order] = []
        for index in 0..<25 {
            let at = start.addingTimeInterval(Double(index))
            let order = Order(
                id: UUID(), customerID: UUID(), status: .created, items: [], total: Money("1.00")!, createdAt: at,
                updatedAt: at)
            orders.append(order)
            summary.apply(OrderChange(sequence: 10 + Int64(index), kind: .created, at: at, order: order))
        }
        var invoiced = orders[24]
        invoiced.status = .invoiced
        invoiced.invoiceNumber = "INV-2026-000099"
        invoiced.updatedAt = invoiced.createdAt.addingTimeInterval(0.004)
        summary.apply(
            OrderChange(
                sequence: 35, kind: .invoiced, at: invoiced.updatedAt, order: invoiced, previousStatus: .created))
        let update = summary.update(sequence: 35, interval: .milliseconds(500), now: invoiced.updatedAt)
        #expect(update.counts == ["created": 26, "invoiced": 6])
        #expect(update.created == 25 && update.invoiced == 1 && update.intervalMilliseconds == 500)
        #expect(update.latest.count == LiveSummary.latestCount && update.latest.first?.id == orders[24].id)
        #expect(
            update.latest.first?.status == .invoiced && update.latest.first?.invoiceNumber == "INV-2026-000099",
            "updated in place")
        #expect(abs((update.latest.first?.invoicedAfterMilliseconds ?? 0) - 4) < 0.01)
        #expect(update.latency.count == 1 && (4.0...4.4).contains(update.latency.p50 ?? 0))
        let next = summary.update(
            sequence: 35, interval: .milliseconds(500), now: invoiced.updatedAt.addingTimeInterval(0.5))
        #expect(next.created == 0 && next.invoiced == 0, "per update")
    }

    @Test func latencyPercentilesCoverTheLastMinuteWithinTenPercent() {
        var window = LatencyWindow()
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        for millisecond in 1...100 { window.record(milliseconds: Double(millisecond), at: now) }
        window.record(milliseconds: 5000, at: now.addingTimeInterval(-61))  // older than a minute
        let p50 = window.percentile(0.5, now: now) ?? 0
        let p99 = window.percentile(0.99, now: now) ?? 0
        #expect((50...55).contains(p50), "p50 \(p50)")
        #expect((99...109).contains(p99), "p99 \(p99)")
        #expect(window.count(now: now) == 100)
        #expect(window.percentile(0.5, now: now.addingTimeInterval(61)) == nil, "a minute later, nothing")
    }

    @Test func theRoutesNeedATokenCheckTheirParametersAndHideOtherCustomersOrders() async throws {
        let tokens = TestTokens()
        // The real application: its middleware, its access guard, its live view.
        let router = try await orderApplication(tokens, storage: storage)
        let ada = UUID()
        let order = try await place(1, customer: ada)[0]
        let asAda = TestTokens.bearer(try await tokens.customer(ada))
        let asBob = TestTokens.bearer(try await tokens.customer(UUID()))
        let admin = TestTokens.bearer(try await tokens.admin())

        #expect(try await router.respond(.get, "/orders/stream").status == .unauthorized)
        for (query, field) in [
            ("?view=all", "view"), ("?after=-3", "after"), ("?view=summary&interval_ms=0", "interval_ms"),
        ] {
            let response = try await router.respond(.get, "/orders/stream\(query)", headers: admin)
            #expect(response.status == .badRequest && response.errorField == field, "\(query)")
        }
        var resume = admin
        resume[.lastEventID] = "x"
        #expect(try await router.respond(.get, "/orders/stream", headers: resume).errorField == "Last-Event-ID")

        let history = try await router.respond(.get, "/orders/\(order.id)/history", headers: asAda)
        let changes = (history.json as? [String: Any])?["changes"] as? [[String: Any]]
        #expect(
            history.status == .ok && changes?.first?["event"] as? String == "order.created"
                && changes?.first?["sequence"] as? Int == 1)
        #expect(try await router.respond(.get, "/orders/\(order.id)/history", headers: asBob).status == .notFound)
        #expect(try await router.respond(.get, "/orders/nope/history", headers: admin).status == .badRequest)
        #expect(try await router.respond(.get, "/queues", headers: asAda).status == .forbidden)

        let page = try await router.respond(.get, "/live")
        #expect(
            page.status == .ok && String(decoding: page.body, as: UTF8.self).contains("<script src=\"/live/live.js\""))
        #expect(page.headers[.contentSecurityPolicy]?.contains("default-src 'self'") == true)
        #expect(try await router.respond(.get, "/").headers[.location] == "/live")
    }

    /// A caller may have `maxStreamsPerCaller` streams open: one more is a 429 with the JSON
    /// error and `Retry-After`; other callers are not held back by it; a stream that ends
    /// (its client went away) frees its place.
    @Test func streamsPerCallerAreCappedAndAnEndedStreamFreesItsPlace() async throws {
        let tokens = TestTokens()
        let feed = feed(window: 100)
        try await feed.catchUp()
        let router = Router(context: TestRequestContext.self)
        router.add(middleware: APIErrorMiddleware())
        let routes = LiveRoutes(
            changeLog: storage.changeLog, feed: feed, queues: QueueHealth(broker: InMemoryBroker()),
            heartbeat: .seconds(7),
            maxStreamsPerCaller: 2)
        routes.add(to: router, access: try await tokens.accessGuard())
        let ada = UUID()
        let asAda = TestTokens.bearer(try await tokens.customer(ada))
        let adas = [
            try await router.client.open(.get, "/orders/stream", headers: asAda),
            try await router.client.open(.get, "/orders/stream?view=summary", headers: asAda),
        ]
        #expect(adas.allSatisfy { $0.status == .ok })
        #expect(routes.streams.count(for: ada.uuidString.lowercased()) == 2)
        let third = try await router.respond(.get, "/orders/stream", headers: asAda)
        #expect(third.status == .tooManyRequests && third.errorCode == "too_many_streams")
        #expect(third.headers[.retryAfter] == "7", "one heartbeat: a stream whose client left is found out by then")
        #expect(third.headers[.contentType]?.hasPrefix("application/json") == true)

        let bob = try await router.client.open(
            .get, "/orders/stream", headers: TestTokens.bearer(try await tokens.customer(UUID())))
        #expect(bob.status == .ok, "another caller's streams do not count")

        try await adas[0].stop()
        try await waitUntil("the ended stream's place to be free") {
            routes.streams.count(for: ada.uuidString.lowercased()) == 1
        }
        let again = try await router.client.open(.get, "/orders/stream", headers: asAda)
        #expect(again.status == .ok)
        for stream in [adas[1], bob, again] { try await stream.stop() }
        try await waitUntil("every place to be free") { routes.streams.count(for: ada.uuidString.lowercased()) == 0 }
    }

    /// A caller who may see no customer's orders gets a stream with nothing in it — no change,
    /// and a summary of nothing — even when the nil UUID's customer (the filter such callers
    /// used to get) has orders.
    @Test func aCallerWhoMaySeeNoCustomerStreamsNothingEvenWhenTheNilUUIDHasOrders() async throws {
        let tokens = TestTokens()
        let feed = feed(window: 100)
        try await feed.catchUp()
        let router = Router(context: TestRequestContext.self)
        router.add(middleware: APIErrorMiddleware())
        LiveRoutes(
            changeLog: storage.changeLog, feed: feed, queues: QueueHealth(broker: InMemoryBroker()),
            heartbeat: .milliseconds(50)
        )
        .add(to: router, access: try await tokens.accessGuard())
        let nilUUID = UUID(uuidString: "00000000-0000-0000-0000-000000000000")!
        try await place(2, customer: nilUUID)
        try await feed.catchUp()
        let callers = [
            (
                "a sub that is no customer id",
                TestTokens.bearer(try await tokens.token(sub: "operator", scopes: [.ordersRead]))
            ),
            ("the nil UUID as sub", TestTokens.bearer(try await tokens.customer(nilUUID))),
        ]
        for (who, headers) in callers {
            // A heartbeat comes once the stream caught up with everything before it.
            let changes = try await router.client.open(.get, "/orders/stream?after=0", headers: headers)
            #expect(changes.status == .ok, "\(who)")
            let text = try await changes.waitFor("\(who)'s stream to catch up") { $0.contains(": heartbeat") }
            #expect(Self.ids(text).isEmpty, "\(who) saw \(text)")
            try await changes.stop()

            let summary = try await router.client.open(
                .get, "/orders/stream?view=summary&interval_ms=100", headers: headers)
            let first = try await summary.waitFor("\(who)'s first summary") { $0.contains("event: summary\ndata: ") }
            try await summary.stop()
            let data = try #require(first.split(separator: "\n").first { $0.hasPrefix("data: ") }?.dropFirst(6))
            let update = try #require(try JSONSerialization.jsonObject(with: Data(data.utf8)) as? [String: Any])
            #expect(
                (update["counts"] as? [String: Int] ?? [:]).values.allSatisfy { $0 == 0 }, "\(who) counted \(update)")
            #expect((update["latest"] as? [Any])?.isEmpty == true, "\(who) saw \(update)")
        }
        // The orders are there: an admin streams them.
        let admin = try await router.client.open(
            .get, "/orders/stream?after=0", headers: TestTokens.bearer(try await tokens.admin()))
        let all = try await admin.waitFor("the admin's stream to show both orders") { Self.ids($0).count >= 2 }
        #expect(Self.ids(all) == [1, 2])
        try await admin.stop()
    }
}
