import Contracts
import Foundation
import MercatoTesting
package import OrderService
package import ServiceKit
import Testing

/// order-service's storage under test — its order store, customer replica and change log over
/// one database — with a view of the events the store queued.
package struct OrderStorage: Sendable {
    /// The orders.
    package var store: any OrderStore
    /// The customer replica.
    package var replica: any CustomerReplica
    /// The change log of the store's changes.
    package var changeLog: any OrderChangeLog
    /// The product replica.
    package var products: any ProductReplica
    /// The events the store queued and nobody published yet, oldest first.
    package var pendingEvents: @Sendable () async throws -> [OutboxMessage]

    /// Creates the subject.
    package init(
        store: any OrderStore, replica: any CustomerReplica, changeLog: any OrderChangeLog,
        products: any ProductReplica, pendingEvents: @escaping @Sendable () async throws -> [OutboxMessage]
    ) {
        self.products = products
        self.store = store
        self.replica = replica
        self.changeLog = changeLog
        self.pendingEvents = pendingEvents
    }
}

/// What every ``OrderStore``, ``CustomerReplica`` and ``OrderChangeLog`` does — PostgreSQL's
/// and the in-memory ones alike.
package enum OrderStorageContract {
    /// The stamp the contract's stores are created with.
    package static let stamp = EventStamp(serviceName: "order-service")

    static func order(
        customer: UUID = UUID(), at time: Date = millisecondNow(plus: -1),
        lines: [(String, Int, String)] = [("Tea", 2, "3.50")]
    ) -> Order {
        let items = lines.map { OrderLine(productName: $0.0, quantity: $0.1, unitPrice: Money($0.2)!) }
        return Order(
            id: UUID(), customerID: customer, status: .created, items: items,
            total: items.map(\.lineTotal).reduce(.zero, +), createdAt: time,
            updatedAt: time)
    }

    static func invoiceCreated(order: UUID, number: String, id: String = UUID().uuidString) throws -> InvoicedOrder {
        let payload = InvoiceCreated(
            invoiceID: UUID(), invoiceNumber: number, orderID: order, customerID: UUID(), lines: [], subtotal: .zero,
            taxRate: 0, tax: .zero,
            total: .zero, issuedAt: Date())
        let event = try IncomingEvent(CloudEvent(id: id, source: "/tests", data: payload))
        return InvoicedOrder(event: event, orderID: order, invoiceID: payload.invoiceID, invoiceNumber: number)
    }

    static func invoiceCreated(order: UUID, number: String, dueAt: Date) throws -> InvoicedOrder {
        var invoiced = try invoiceCreated(order: order, number: number)
        invoiced.dueAt = dueAt
        return invoiced
    }

    static func notice(_ kind: PaymentNotice.Kind, order: UUID, number: String = "INV-2026-000077") throws
        -> PaymentNotice
    {
        let invoiceID = UUID()
        let at = millisecondNow()
        let event: IncomingEvent
        switch kind {
        case .paid:
            event = try IncomingEvent(
                CloudEvent(
                    source: "/tests",
                    data: InvoicePaid(
                        invoiceID: invoiceID, invoiceNumber: number, orderID: order, customerID: UUID(),
                        paymentID: UUID(), amount: Money("7.00")!,
                        method: "card", paidAt: at)))
        case .voided:
            event = try IncomingEvent(
                CloudEvent(
                    source: "/tests",
                    data: InvoiceVoided(
                        invoiceID: invoiceID, invoiceNumber: number, orderID: order, customerID: UUID(),
                        reason: .requested, refundDue: nil,
                        voidedAt: at)))
        case .refunded:
            event = try IncomingEvent(
                CloudEvent(
                    source: "/tests",
                    data: InvoiceRefunded(
                        invoiceID: invoiceID, invoiceNumber: number, orderID: order, customerID: UUID(),
                        paymentID: UUID(), amount: Money("7.00")!,
                        refundedAt: at)))
        case .overdue:
            event = try IncomingEvent(
                CloudEvent(
                    source: "/tests",
                    data: InvoiceOverdue(
                        invoiceID: invoiceID, invoiceNumber: number, orderID: order, customerID: UUID(),
                        dueAt: at.addingTimeInterval(-10),
                        overdueAt: at)))
        }
        return PaymentNotice(
            event: event, kind: kind, orderID: order, invoiceID: invoiceID, invoiceNumber: number, at: at)
    }

    static func snapshot(_ id: UUID, count: Int, version: Int) -> CustomerSnapshot {
        CustomerSnapshot(
            customerID: id, name: "Ada v\(version)", email: "ada@example.com", address: "x", ordersCount: count,
            version: version,
            updatedAt: millisecondNow())
    }

    /// Numbers every change made so far: a transaction of a check running beside this one
    /// may hold numbering back for a while (on a busy machine, longer than any fixed number
    /// of tries); fails rather than let a check go on with changes still unnumbered.
    static func settle(_ store: OrderStorage) async throws {
        try await waitUntil("every change made so far is numbered", timeout: .seconds(60), interval: .milliseconds(10))
        {
            try await store.changeLog.settleChanges()
        }
    }

    /// Every check.
    package static let checks: [ContractCheck<OrderStorage>] = [
        ContractCheck("the largest order validation accepts is stored exactly") { store in
            // 99 lines of 10,000 × 1,000,000.00 and one of 9,999: 999,999,000,000.00, under
            // NewOrder.maximumTotal, so it must fit every column it is written to.
            let largest = try NewOrder(
                customerID: UUID(),
                items: (0..<NewOrder.maxItems).map { index in
                    NewOrder.Item(sku: "LINE-\(index)", quantity: index == 0 ? 9_999 : 10_000)
                }
            ).validated()
            let catalog = Dictionary(
                uniqueKeysWithValues: largest.items.map {
                    (
                        $0.sku,
                        ProductSnapshot(
                            sku: $0.sku, name: "Line", price: Money(1_000_000), active: true, available: 10_000,
                            version: 1, updatedAt: Date())
                    )
                })
            let order = try largest.order(pricedBy: catalog, at: Date())
            _ = try await store.store.place(order, idempotency: nil, traceparent: nil)
            let stored = try #require(try await store.store.order(id: order.id))
            #expect(stored.total == Money("999999000000.00") && stored.items == order.items)
        },
        ContractCheck("placing stores the order with its lines and queues its order.created") { store in
            let order = order(lines: [("Tea", 2, "3.50"), ("Cake", 1, "4.25")])
            let placed = try await store.store.place(order, idempotency: nil, traceparent: testTraceparent)
            #expect(!placed.isReplay && placed.order.id == order.id)
            let stored = try #require(try await store.store.order(id: order.id))
            #expect(
                stored.status == .created && stored.customerID == order.customerID && stored.total == Money("11.25"))
            #expect(stored.items == order.items, "lines in the order given")
            #expect(
                sameInstant(stored.createdAt, order.createdAt) && stored.invoiceID == nil && stored.invoiceNumber == nil
            )
            #expect(try await store.store.order(id: UUID()) == nil)
            let events = try await store.pendingEvents()
            #expect(events.map(\.eventType) == ["order.created"])
            let event = try EventCoding.makeDecoder().decode(
                CloudEvent<OrderCreated>.self, from: try #require(events.first).body)
            var expected = order.createdEvent
            expected.createdAt = event.data.createdAt
            #expect(event.data == expected && sameInstant(event.data.createdAt, order.createdAt))
            #expect(event.subject == order.id.uuidString.lowercased() && event.traceparent == testTraceparent)
            #expect(event.source == stamp.source && events.first?.appID == stamp.appID)
        },
        ContractCheck("an idempotency key replays the same request and refuses another") { store in
            let key = IdempotencyKey(key: "key-\(UUID())", request: #"{"a":1}"#)
            let first = try await store.store.place(order(), idempotency: key, traceparent: nil)
            let again = try await store.store.place(order(), idempotency: key, traceparent: nil)
            #expect(!first.isReplay && again.isReplay && again.order.id == first.order.id)
            #expect(try await store.store.replay(of: key)?.id == first.order.id)
            #expect(try await store.store.replay(of: IdempotencyKey(key: "never-used", request: "{}")) == nil)
            await #expect { try await store.store.replay(of: IdempotencyKey(key: key.key, request: "{}")) } throws: {
                ($0 as? OrderStoreError)?.code == .idempotencyKeyReused
            }
            await #expect {
                try await store.store.place(
                    order(), idempotency: IdempotencyKey(key: key.key, request: #"{"a":2}"#), traceparent: nil)
            } throws: { ($0 as? OrderStoreError)?.code == .idempotencyKeyReused }
            #expect(try await store.pendingEvents().count == 1, "a replay or a refusal queues nothing")
        },
        ContractCheck("pages run oldest first, optionally for one customer, and follow each other without repeats") {
            store in
            let (ada, bob) = (UUID(), UUID())
            let start = millisecondNow(plus: -100)
            var placed: [Order] = []
            for index in 0..<10 {
                // Pairs share a time: the id breaks the tie.
                let order = order(customer: index % 3 == 0 ? bob : ada, at: start + Double(index / 2))
                placed.append(try await store.store.place(order, idempotency: nil, traceparent: nil).order)
            }
            let key = { (order: Order) in PageCursor(time: order.createdAt, id: order.id) }
            for customer in [nil, ada, bob] {
                var request = PageRequest(limit: 3)
                var seen: [UUID] = []
                while true {
                    let page = try await store.store.orders(page: request, customerID: customer)
                    seen += page.map(\.id)
                    guard page.count == request.limit, let last = page.last else { break }
                    request.after = key(last)
                }
                let expected = placed.filter { customer == nil || $0.customerID == customer }.sorted {
                    key($0) < key($1)
                }.map(\.id)
                #expect(seen == expected, "customer \(customer.map(\.uuidString) ?? "any")")
            }
            #expect(
                try await store.store.orders(page: PageRequest(limit: 5), customerID: nil).allSatisfy {
                    !$0.items.isEmpty
                })
        },
        ContractCheck("an invoice marks its order once, and the first invoice stays") { store in
            let placed = try await store.store.place(order(), idempotency: nil, traceparent: nil).order
            let invoice = try invoiceCreated(order: placed.id, number: "INV-2026-000001")
            // Each call names the orders it recorded an invoice on, and when each was placed.
            let marked = try await store.store.markInvoiced([invoice, invoice])
            #expect(marked.map(\.orderID) == [placed.id])
            #expect(marked.allSatisfy { abs($0.placedAt.timeIntervalSince(placed.createdAt)) < 0.001 })
            #expect(try await store.store.markInvoiced([invoice]).isEmpty)
            #expect(
                try await store.store.markInvoiced([
                    try invoiceCreated(order: placed.id, number: "INV-2026-000999")
                ]).isEmpty)
            let invoiced = try #require(try await store.store.order(id: placed.id))
            #expect(
                invoiced.status == .invoiced && invoiced.invoiceID == invoice.invoiceID
                    && invoiced.invoiceNumber == "INV-2026-000001")
            #expect(invoiced.updatedAt >= placed.updatedAt)
        },
        ContractCheck("news of an order not stored changes nothing and throws, to be retried once it is") {
            store in
            let early = order()
            let invoice = try invoiceCreated(order: early.id, number: "INV-2026-000002")
            let paid = try notice(.paid, order: early.id)
            let stored = try await store.store.place(order(), idempotency: nil, traceparent: nil).order
            let alongside = try invoiceCreated(order: stored.id, number: "INV-2026-000003")
            // One unknown order fails its whole batch: the stored order's invoice waits too.
            await #expect { try await store.store.markInvoiced([alongside, invoice]) } throws: {
                ($0 as? OrderStoreError)?.code == .unknownOrder
            }
            await #expect { try await store.store.applyPayments([paid]) } throws: {
                ($0 as? OrderStoreError)?.code == .unknownOrder
            }
            #expect(try await store.store.order(id: early.id) == nil)
            #expect(try await store.store.order(id: stored.id)?.invoiceNumber == nil)
            // The same events, redelivered once the order is stored, apply: nothing was
            // recorded as seen.
            _ = try await store.store.place(early, idempotency: nil, traceparent: nil)
            #expect(try await store.store.markInvoiced([alongside, invoice]).count == 2)
            try await store.store.applyPayments([paid])
            let placed = try #require(try await store.store.order(id: early.id))
            #expect(placed.status == .paid && placed.invoiceNumber == "INV-2026-000002")
        },
        ContractCheck("the product replica keeps the newest version of each product, once per event") { store in
            let sku = "TEA-\(UUID().uuidString.prefix(8))"
            func event(_ version: Int, available: Int) throws -> (IncomingEvent, ProductSnapshot) {
                let product = ProductSnapshot(
                    sku: sku, name: "Tea v\(version)", price: Money("4.20")!, active: true, available: available,
                    version: version, updatedAt: millisecondNow())
                return (
                    try IncomingEvent(CloudEvent(source: "/tests", data: ProductUpdated(product: product))), product
                )
            }
            let v3 = try event(3, available: 7)
            let v2 = try event(2, available: 9)
            try await store.products.saveProducts([v3.1], events: [v3.0])
            try await store.products.saveProducts([v2.1, v3.1], events: [v2.0, v3.0])  // late, and a repeat
            let held = try await store.products.products(skus: [sku, "NO-SUCH-SKU"])
            #expect(held.keys.sorted() == [sku] && held[sku] == v3.1)
        },
        ContractCheck("the live page's stock: reserved and on order as announced, deliveries counted once") { store in
            let sku = "CUP-\(UUID().uuidString.prefix(8))"
            let product = ProductSnapshot(
                sku: sku, name: "Cup", price: Money("9.00")!, active: true, available: 2, version: 1,
                updatedAt: millisecondNow(), reserved: 3, onOrder: 20)
            try await store.products.saveProducts(
                [product],
                events: [try IncomingEvent(CloudEvent(source: "/tests", data: ProductCreated(product: product)))])
            func delivery(_ units: Int) throws -> IncomingEvent {
                try IncomingEvent(
                    CloudEvent(
                        source: "/tests",
                        data: StockReplenished(
                            sku: sku, purchaseOrderID: UUID(), quantity: units, onHand: 5 + units, available: 2 + units,
                            replenishedAt: Date())))
            }
            let first = try delivery(10)
            try await store.products.recordReplenishments([(sku, 10)], events: [first])
            try await store.products.recordReplenishments([(sku, 10), (sku, 10)], events: [first, try delivery(10)])
            let level = try #require(try await store.products.stock(limit: 1000).first { $0.sku == sku })
            #expect(level == StockLevel(sku: sku, name: "Cup", available: 2, reserved: 3, onOrder: 20, replenished: 20))
        },
        ContractCheck("the customer replica keeps the newest version whatever the order of the events") { store in
            let id = UUID()
            let event = { (payload: CustomerUpdated) in try IncomingEvent(CloudEvent(source: "/tests", data: payload)) }
            let created = try IncomingEvent(
                CloudEvent(source: "/tests", data: CustomerCreated(customer: snapshot(id, count: 0, version: 1))))
            let v3 = try event(CustomerUpdated(customer: snapshot(id, count: 2, version: 3)))
            let v2 = try event(CustomerUpdated(customer: snapshot(id, count: 1, version: 2)))
            #expect(try await store.replica.customer(id: id) == nil)
            try await store.replica.saveCustomers(
                [snapshot(id, count: 0, version: 1), snapshot(id, count: 2, version: 3)], events: [created, v3])
            try await store.replica.saveCustomers([snapshot(id, count: 1, version: 2)], events: [v2])  // late
            // Duplicate.
            try await store.replica.saveCustomers([snapshot(id, count: 0, version: 1)], events: [created])
            // From an HTTP lookup (no event): only if newer, too.
            try await store.replica.saveCustomers([snapshot(id, count: 0, version: 1)], events: [])
            let replica = try #require(try await store.replica.customer(id: id))
            #expect(replica.version == 3 && replica.ordersCount == 2 && replica.name == "Ada v3")
            try await store.replica.saveCustomers([snapshot(id, count: 5, version: 4)], events: [])
            // Within the repository's cache window a read may still show v3; never an older one.
            #expect(try await store.replica.customer(id: id).map(\.version).map { $0 >= 3 } == true)
        },
        ContractCheck("every change is numbered in order: created, then invoiced, each with the order as it was then") {
            store in
            let start = try await store.changeLog.statusCounts(customerID: nil).sequence
            let customer = UUID()
            try await store.replica.saveCustomers([snapshot(customer, count: 0, version: 1)], events: [])
            let first = order(customer: customer)
            let second = order(customer: customer, lines: [("Cake", 1, "4.25")])
            _ = try await store.store.place(first, idempotency: nil, traceparent: nil)
            _ = try await store.store.place(second, idempotency: nil, traceparent: nil)
            try await store.store.markInvoiced([try invoiceCreated(order: first.id, number: "INV-2026-000010")])
            // A second invoice: no change.
            try await store.store.markInvoiced([try invoiceCreated(order: first.id, number: "INV-2026-000011")])
            try await settle(store)
            let changes = try await store.changeLog.changes(after: start, customerID: nil, limit: 10)
            #expect(changes.map(\.sequence) == [start + 1, start + 2, start + 3])
            #expect(changes.map(\.kind) == [.created, .created, .invoiced])
            #expect(changes.map(\.order.id) == [first.id, second.id, first.id])
            #expect(
                changes[0].order.status == .created && changes[0].order.invoiceNumber == nil, "as it was at that change"
            )
            #expect(changes[0].order.items == first.items && changes[1].order.total == Money("4.25"))
            #expect(changes[2].order.status == .invoiced && changes[2].order.invoiceNumber == "INV-2026-000010")
            #expect(changes[0].customer?.name == "Ada v1", "with the replica's customer")
            #expect(changes[2].at >= changes[0].at && sameInstant(changes[2].order.updatedAt, changes[2].at))
            // Paging by position, and a limit.
            #expect(
                try await store.changeLog.changes(after: start + 1, customerID: nil, limit: 1).map(\.sequence) == [
                    start + 2
                ])
            #expect(try await store.changeLog.changes(after: start + 3, customerID: nil, limit: 10).isEmpty)
        },
        ContractCheck(
            "changes filter by customer; history lists one order's changes; counts include exactly the changes up to their sequence"
        ) { store in
            let ada = UUID()
            let bob = UUID()
            let adas = order(customer: ada)
            let bobs = order(customer: bob)
            _ = try await store.store.place(adas, idempotency: nil, traceparent: nil)
            try await settle(store)
            let before = try await store.changeLog.statusCounts(customerID: ada)
            #expect(before.counts == [.created: 1])
            _ = try await store.store.place(bobs, idempotency: nil, traceparent: nil)
            try await store.store.markInvoiced([try invoiceCreated(order: adas.id, number: "INV-2026-000020")])
            // Counted as of the last numbered change: the invoice only once it is numbered.
            let unsettled = try await store.changeLog.statusCounts(customerID: ada)
            #expect(unsettled.counts == [.created: 1] || unsettled.sequence > before.sequence)
            try await settle(store)
            let adasChanges = try await store.changeLog.changes(after: 0, customerID: ada, limit: 10)
            #expect(
                adasChanges.map(\.order.id) == [adas.id, adas.id] && adasChanges.map(\.kind) == [.created, .invoiced])
            #expect(try await store.changeLog.history(of: adas.id).map(\.kind) == [.created, .invoiced])
            #expect(try await store.changeLog.history(of: bobs.id).map(\.kind) == [.created])
            #expect(try await store.changeLog.history(of: UUID()).isEmpty)
            let after = try await store.changeLog.statusCounts(customerID: ada)
            #expect(after.counts == [.invoiced: 1] && after.sequence > before.sequence)
            let all = try await store.changeLog.statusCounts(customerID: nil)
            #expect((all.counts[.created] ?? 0) >= 1 && (all.counts[.invoiced] ?? 0) >= 1)
            #expect(
                try await store.changeLog.changes(after: all.sequence, customerID: nil, limit: 10).isEmpty,
                "nothing after the counts' sequence")
        },
        ContractCheck("an order is cancelled once while unpaid, with order.cancelled; a paid one is refused") { store in
            let open = order()
            let invoiced = order()
            let paid = order()
            for order in [open, invoiced, paid] {
                _ = try await store.store.place(order, idempotency: nil, traceparent: nil)
            }
            try await store.store.markInvoiced([try invoiceCreated(order: invoiced.id, number: "INV-2026-000041")])
            try await store.store.applyPayments([try notice(.paid, order: paid.id)])
            #expect(try await store.store.order(id: paid.id)?.status == .paid)
            let time = millisecondNow()
            for order in [open, invoiced] {
                let result = try #require(
                    try await store.store.cancel(
                        order.id, reason: .requested, at: time, traceparent: testTraceparent))
                #expect(
                    result.outcome == .moves(to: .cancelled) && result.order.status == .cancelled
                        && result.order.cancelReason == "requested")
                let again = try #require(
                    try await store.store.cancel(order.id, reason: .requested, at: time, traceparent: nil))
                #expect(again.outcome == .stays && again.order.status == .cancelled)
            }
            let refused = try #require(
                try await store.store.cancel(paid.id, reason: .requested, at: time, traceparent: nil))
            #expect(refused.outcome == .refused && refused.order.status == .paid)
            #expect(try await store.store.cancel(UUID(), reason: .requested, at: time, traceparent: nil) == nil)
            let stored = try #require(try await store.store.order(id: invoiced.id))
            #expect(
                stored.status == .cancelled && stored.invoiceNumber == "INV-2026-000041"
                    && sameInstant(stored.cancelledAt, time))
            let events = try await store.pendingEvents().filter { $0.eventType == "order.cancelled" }
            #expect(events.count == 2)
            let event = try EventCoding.makeDecoder().decode(CloudEvent<OrderCancelled>.self, from: events[0].body)
            #expect(
                event.data.orderID == open.id && event.data.reason == .requested && event.traceparent == testTraceparent
            )
            try await settle(store)
            #expect(
                try await store.changeLog.history(of: invoiced.id).map(\.kind) == [.created, .invoiced, .cancelled])
            #expect(try await store.changeLog.history(of: paid.id).map(\.kind) == [.created, .paid])
        },
        ContractCheck(
            "late news never reopens a cancelled order: its invoice and payment are recorded, its refund once"
        ) { store in
            let order = order()
            _ = try await store.store.place(order, idempotency: nil, traceparent: nil)
            _ = try await store.store.cancel(order.id, reason: .requested, at: millisecondNow(), traceparent: nil)
            try await store.store.markInvoiced([try invoiceCreated(order: order.id, number: "INV-2026-000042")])
            let paid = try notice(.paid, order: order.id, number: "INV-2026-000042")
            try await store.store.applyPayments([paid, paid])
            try await store.store.applyPayments([try notice(.voided, order: order.id, number: "INV-2026-000042")])
            let refund = try notice(.refunded, order: order.id, number: "INV-2026-000042")
            try await store.store.applyPayments([refund])
            try await store.store.applyPayments([try notice(.refunded, order: order.id)])  // another id
            let stored = try #require(try await store.store.order(id: order.id))
            #expect(
                stored.status == .cancelled && stored.invoiceNumber == "INV-2026-000042" && stored.refundedAt != nil
                    && stored.paidAt == nil)
            #expect(stored.invoiceVoidedAt != nil)
            try await settle(store)
            #expect(try await store.changeLog.history(of: order.id).map(\.kind) == [.created, .cancelled, .refunded])
            await #expect(throws: OrderStoreError.self) {
                try await store.store.applyPayments([try notice(.paid, order: UUID())])
            }
        },
        ContractCheck("a payment before its invoice.created pays the order, and the late invoice changes nothing") {
            store in
            let order = order()
            _ = try await store.store.place(order, idempotency: nil, traceparent: nil)
            try await store.store.applyPayments([try notice(.paid, order: order.id, number: "INV-2026-000043")])
            try await store.store.markInvoiced([try invoiceCreated(order: order.id, number: "INV-2026-000043")])
            let stored = try #require(try await store.store.order(id: order.id))
            #expect(stored.status == .paid && stored.invoiceNumber == "INV-2026-000043" && stored.paidAt != nil)
            try await settle(store)
            let history = try await store.changeLog.history(of: order.id)
            #expect(history.map(\.kind) == [.created, .paid] && history.map(\.previousStatus) == [nil, .created])
        },
        ContractCheck(
            "a cancelled order's refund waits for the cancellation; a paid order's second capture refunded changes nothing"
        ) { store in
            let (early, paid) = (order(), order())
            for order in [early, paid] {
                _ = try await store.store.place(order, idempotency: nil, traceparent: nil)
            }
            try await store.store.markInvoiced([
                try invoiceCreated(order: early.id, number: "INV-2026-000061"),
                try invoiceCreated(order: paid.id, number: "INV-2026-000062"),
            ])
            // The refund of an overdue order's late capture, redelivered ahead of invoice.overdue:
            // retried (nothing changes, not even the inbox), then recorded once it is cancelled.
            let refund = try notice(.refunded, order: early.id)
            await #expect { try await store.store.applyPayments([refund]) } throws: {
                ($0 as? OrderStoreError)?.code == .notCancelledYet
            }
            #expect(try await store.store.order(id: early.id)?.status == .invoiced)
            try await store.store.applyPayments([try notice(.overdue, order: early.id), refund])
            let refunded = try #require(try await store.store.order(id: early.id))
            #expect(refunded.status == .cancelled && refunded.refundedAt != nil)
            // A paid order charged twice: the second capture given back is no news for the order.
            try await store.store.applyPayments([try notice(.paid, order: paid.id)])
            var second = try notice(.refunded, order: paid.id)
            second.refundReason = .invoicePaidByAnother
            try await store.store.applyPayments([second])
            let stillPaid = try #require(try await store.store.order(id: paid.id))
            #expect(stillPaid.status == .paid && stillPaid.refundedAt == nil)
            try await settle(store)
            #expect(try await store.changeLog.history(of: paid.id).map(\.kind) == [.created, .invoiced, .paid])
        },
        ContractCheck("invoice.overdue cancels its order once, with reason payment_overdue and order.cancelled") {
            store in
            let customer = UUID()
            let (overdue, notYet, paid) = (
                order(customer: customer), order(customer: customer), order(customer: customer)
            )
            for order in [overdue, notYet, paid] {
                _ = try await store.store.place(order, idempotency: nil, traceparent: nil)
            }
            let now = Date()
            try await store.store.markInvoiced([
                try invoiceCreated(order: overdue.id, number: "INV-2026-000051", dueAt: now.addingTimeInterval(-10)),
                try invoiceCreated(order: notYet.id, number: "INV-2026-000052", dueAt: now.addingTimeInterval(3600)),
                try invoiceCreated(order: paid.id, number: "INV-2026-000053", dueAt: now.addingTimeInterval(-10)),
            ])
            try await store.store.applyPayments([try notice(.paid, order: paid.id)])
            #expect(
                try await store.store.order(id: notYet.id)?.paymentDueAt.map {
                    sameInstant($0, now.addingTimeInterval(3600))
                } == true)
            // Nothing cancels an order for lateness but invoice-service's word: the due date
            // passing here changes nothing by itself.
            let closed = try notice(.overdue, order: overdue.id)
            try await store.store.applyPayments([closed])
            try await store.store.applyPayments([closed])  // redelivered
            // A forged or mistaken invoice.overdue of a paid order cannot unpay it.
            try await store.store.applyPayments([try notice(.overdue, order: paid.id)])
            let stored = try #require(try await store.store.order(id: overdue.id))
            #expect(stored.status == .cancelled && stored.cancelReason == "payment_overdue")
            #expect(try await store.store.order(id: notYet.id)?.status == .invoiced)
            #expect(try await store.store.order(id: paid.id)?.status == .paid)
            let events = try await store.pendingEvents().filter { $0.eventType == "order.cancelled" }.map {
                try EventCoding.makeDecoder().decode(CloudEvent<OrderCancelled>.self, from: $0.body).data
            }
            #expect(events.map(\.orderID) == [overdue.id] && events.allSatisfy { $0.reason == .paymentOverdue })
            try await settle(store)
            let counts = try await store.changeLog.statusCounts(customerID: customer)
            #expect(counts.counts == [.cancelled: 1, .invoiced: 1, .paid: 1])
        },
    ]
}
