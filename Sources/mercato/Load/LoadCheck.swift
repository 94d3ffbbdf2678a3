import Contracts
import Foundation
import Histogram
import Locking
import NIOCore
import NIOHTTP1
import Synchronization

/// After a load run: waits for the system to settle, then checks every accepted order through
/// the services' own APIs — invoiced once (unless cancelled first), counted once unless
/// cancelled, in the state the run left it in at all three services (invoiced, paid, or
/// cancelled with a void invoice), and with the money where those states say: one capture
/// per paid order, none kept for a cancelled one.
struct LoadCheck {
    var settled = false
    var problems: [String] = []
    /// The last write the load caused, by the services' own timestamps: the latest invoice
    /// `issued_at`, customer `updated_at` and order `updated_at`. The system had settled
    /// then, however long the checking itself took.
    var lastEffect = Date.distantPast
    /// Payments refunded because their order was cancelled meanwhile.
    var refunds = 0
    /// Invoice `issued_at` minus order `created_at`, in microseconds.
    var orderToInvoice = Histogram<UInt64>(highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: .three)

    typealias Send = HTTPConnection.Sender

    static func run(
        accepted: [LoadRecorder.Accepted], customers: [String], orders: HTTPConnection, customerService: HTTPConnection,
        invoices: HTTPConnection, clients: Int, timeout: Duration, states: [String: String] = [:]
    ) async throws -> LoadCheck {
        var check = LoadCheck()
        let deadline = ContinuousClock.now + timeout
        // orders_count holds the orders not cancelled; order-service lists them all.
        var expected = [Int](repeating: 0, count: customers.count)
        var placed = [Int](repeating: 0, count: customers.count)
        for order in accepted {
            placed[order.customer] += 1
            if states[order.orderID] != "cancelled" { expected[order.customer] += 1 }
        }
        /// The state an order must end in, and the invoice status that goes with it.
        @Sendable func state(_ order: String) -> String { states[order] ?? "invoiced" }
        let invoiceStatus = ["invoiced": "issued", "paid": "paid", "cancelled": "void"]
        let invoiceOf = Locked([String: (id: String, total: String)]())

        // 1. Every order invoiced exactly once (polling those not yet invoiced).
        var pending = accepted
        let latencies = Locked(check.orderToInvoice)
        let lastEffect = Locked(Date.distantPast)
        @Sendable func saw(_ text: Any?) {
            guard let date = (text as? String).flatMap(EventCoding.parseTimestamp) else { return }
            lastEffect.withLock { $0 = max($0, date) }
        }
        let doubled = Locked<[String]>([])
        while !pending.isEmpty, ContinuousClock.now < deadline {
            let stillPending = Locked<[LoadRecorder.Accepted]>([])
            try await parallel(pending, connections: clients, service: invoices) { order, send in
                let response = try await send(.GET, "/invoices?order_id=\(order.orderID)", nil)
                let list = response.json()?["data"] as? [[String: Any]] ?? []
                switch list.count {
                // A cancelled order may never have been invoiced.
                case 0 where state(order.orderID) == "cancelled": break
                case 0: stillPending.withLock { $0.append(order) }
                case 1 where list[0]["status"] as? String != invoiceStatus[state(order.orderID)]:
                    stillPending.withLock { $0.append(order) }
                case 1:
                    saw(list[0]["issued_at"])
                    if let id = list[0]["id"] as? String, let total = list[0]["total"] as? String {
                        invoiceOf.withLock { $0[order.orderID] = (id, total) }
                    }
                    if let issued = (list[0]["issued_at"] as? String).flatMap(EventCoding.parseTimestamp) {
                        let microseconds = UInt64(max(0, issued.timeIntervalSince(order.createdAt) * 1_000_000))
                        latencies.withLock { _ = $0.record(microseconds) }
                    }
                default: doubled.withLock { $0.append("order \(order.orderID) has \(list.count) invoices") }
                }
            }
            pending = stillPending.withLock { $0 }
            if !pending.isEmpty { try await Task.sleep(for: .milliseconds(250)) }
        }
        check.orderToInvoice = latencies.withLock { $0 }
        check.problems += doubled.withLock { $0 }
        if !pending.isEmpty {
            check.problems.append(
                "\(pending.count) accepted orders were never invoiced (or their invoice never reached their state), e.g. \(pending[0].orderID)"
            )
        }

        // 2. Every customer's orders_count equals its accepted orders.
        var mismatches: [String] = []
        repeat {
            let counts = Locked([Int?](repeating: nil, count: customers.count))
            try await parallel(Array(customers.indices), connections: clients, service: customerService) {
                index, send in
                let response = try await send(.GET, "/customers/\(customers[index])", nil)
                let customer = response.json()
                saw(customer?["updated_at"])
                counts.withLock { $0[index] = customer?["orders_count"] as? Int }
            }
            let read = counts.withLock { $0 }
            mismatches = customers.indices.compactMap { index in
                read[index] == expected[index]
                    ? nil
                    : "customer \(customers[index]): orders_count \(read[index].map(String.init) ?? "?"), accepted \(expected[index])"
            }
            // A count above the accepted orders can only grow: doubled, no point waiting.
            if mismatches.isEmpty || customers.indices.contains(where: { (read[$0] ?? 0) > expected[$0] }) { break }
            try await Task.sleep(for: .milliseconds(250))
        } while ContinuousClock.now < deadline
        check.problems += mismatches.prefix(10)

        // 3. order-service lists each customer's orders, all invoiced, each once.
        var listingProblems: [String] = []
        repeat {
            let listed = Locked([String: [String]]())
            try await parallel(Array(customers.indices), connections: clients, service: orders) { index, send in
                var statuses: [String] = []
                var cursor: String?
                repeat {
                    let path =
                        "/orders?customer_id=\(customers[index])&limit=100" + (cursor.map { "&after=\($0)" } ?? "")
                    let page = try await send(.GET, path, nil).json()
                    let data = page?["data"] as? [[String: Any]] ?? []
                    for order in data { saw(order["updated_at"]) }
                    statuses += data.map { "\($0["id"] ?? "?") \($0["status"] ?? "?")" }
                    cursor = page?["next_cursor"] as? String
                } while cursor != nil
                listed.withLock { $0[customers[index]] = statuses }
            }
            let byCustomer = listed.withLock { $0 }
            listingProblems = customers.indices.compactMap { index in
                let statuses = byCustomer[customers[index]] ?? []
                if statuses.count != placed[index] {
                    return
                        "order-service lists \(statuses.count) orders of \(customers[index]), accepted \(placed[index])"
                }
                let wrong = statuses.filter { line in
                    let parts = line.split(separator: " ")
                    return parts.count != 2 || String(parts[1]) != state(String(parts[0]))
                }
                return wrong.isEmpty
                    ? nil
                    : "\(wrong.count) orders of \(customers[index]) not in their state at order-service, e.g. \(wrong[0])"
            }
            if listingProblems.isEmpty { break }
            try await Task.sleep(for: .milliseconds(250))
        } while ContinuousClock.now < deadline
        check.problems += listingProblems.prefix(10)

        // 4. The money: one capture per paid order, none kept for a cancelled one.
        let touched = invoiceOf.withLock { $0 }.filter { states[$0.key] != nil }
        if !touched.isEmpty {
            let moneyProblems = Locked<[String]>([])
            let refunds = Locked(0)
            try await parallel(Array(touched), connections: clients, service: invoices) { entry, send in
                let payments =
                    try await send(.GET, "/invoices/\(entry.value.id)/payments", nil).json()?["data"]
                    as? [[String: Any]] ?? []
                let captured = payments.filter { $0["status"] as? String == "captured" }
                refunds.withLock { $0 += payments.filter { $0["status"] as? String == "refunded" }.count }
                switch state(entry.key) {
                case "paid" where captured.count != 1 || captured.first?["amount"] as? String != entry.value.total:
                    moneyProblems.withLock {
                        $0.append(
                            "paid order \(entry.key) has \(captured.count) captured payments of its \(entry.value.total)"
                        )
                    }
                case "cancelled" where !captured.isEmpty:
                    moneyProblems.withLock {
                        $0.append("cancelled order \(entry.key) kept a captured payment (not refunded)")
                    }
                default: break
                }
            }
            check.problems += moneyProblems.withLock { $0 }.prefix(10)
            check.refunds = refunds.withLock { $0 }
        }
        check.settled = check.problems.isEmpty
        check.lastEffect = lastEffect.withLock { $0 }
        return check
    }

    /// Runs `work` over `items` from `connections` clients, each with its own connection.
    static func parallel<Item: Sendable>(
        _ items: [Item], connections: Int, service: HTTPConnection,
        _ work: @escaping @Sendable (Item, Send) async throws -> Void
    ) async throws {
        let cursor = WorkCursor()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<min(connections, items.count) {
                group.addTask {
                    try await service.withConnection { send in
                        while true {
                            let index = cursor.next.add(1, ordering: .relaxed).oldValue
                            guard index < items.count else { return }
                            try await work(items[index], send)
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
    }
}

/// The next item of a shared work list: an atomic in a class, so concurrent tasks can share it.
final class WorkCursor: Sendable {
    let next = Atomic<Int>(0)
}
