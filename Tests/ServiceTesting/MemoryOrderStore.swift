package import Contracts
package import Foundation
package import OrderService
package import ServiceKit

/// order-service's orders in memory, for unit tests; it passes the same contract suite as
/// `PostgresOrderStore`. It records each change as the PostgreSQL store does, in the same
/// step as the change; ``MemoryOrderChangeLog`` reads them.
package actor MemoryOrderStore: OrderStore {
    private var orders: [UUID: Order] = [:]
    private var keys: [String: (UUID, String)] = [:]
    private var inbox: Set<String> = []
    /// Every change, in sequence order (the sequence number of `changeLog[i]` is `i + 1`).
    private(set) var changeLog: [OrderChange] = []
    /// The events queued by the store.
    package nonisolated let outbox: MemoryOutboxStore
    private let stamp: EventStamp

    /// Creates an empty store; `stamp` marks the events it queues, `outbox` receives them.
    package init(
        stamp: EventStamp = EventStamp(serviceName: "order-service"), outbox: MemoryOutboxStore = MemoryOutboxStore()
    ) {
        self.stamp = stamp
        self.outbox = outbox
    }

    package func place(_ order: Order, idempotency: IdempotencyKey?, traceparent: String?) async throws -> PlacedOrder {
        if let idempotency, let existing = try await replay(of: idempotency) {
            return PlacedOrder(order: existing, isReplay: true)
        }
        let event = try stamp.message(
            order.createdEvent, subject: order.id, time: order.createdAt, traceparent: traceparent)
        record(.created, of: order, at: order.createdAt)
        orders[order.id] = order
        if let idempotency { keys[idempotency.key] = (order.id, idempotency.request) }
        outbox.append([event])
        return PlacedOrder(order: order, isReplay: false)
    }

    package func replay(of idempotency: IdempotencyKey) async throws -> Order? {
        guard let (id, request) = keys[idempotency.key] else { return nil }
        guard request == idempotency.request else {
            throw OrderStoreError(
                .idempotencyKeyReused, "Idempotency-Key \(idempotency.key) was used for another request")
        }
        return orders[id]
    }

    package func order(id: UUID) async throws -> Order? { orders[id] }

    package func orders(page: PageRequest, customerID: UUID?) async throws -> [Order] {
        page.page(of: orders.values.filter { customerID == nil || $0.customerID == customerID }) {
            PageCursor(time: $0.createdAt, id: $0.id)
        }
    }

    @discardableResult
    package func markInvoiced(_ invoices: [InvoicedOrder]) async throws -> [InvoiceRecorded] {
        try refuseNewsOfUnknownOrders(invoices.map { ($0.event, $0.orderID) })
        let now = Date()
        var recorded: [InvoiceRecorded] = []
        for invoice in invoices where inbox.insert(invoice.event.id).inserted {
            var order = orders[invoice.orderID]!
            guard order.invoiceID == nil else { continue }
            order.invoiceID = invoice.invoiceID
            order.invoiceNumber = invoice.invoiceNumber
            order.paymentDueAt = invoice.dueAt
            order.updatedAt = now
            if case .moves(let next) = OrderLifecycle.transition(from: order.status, on: .invoiceIssued) {
                let previous = order.status
                order.status = next
                record(.invoiced, of: order, at: now, from: previous)
            }
            orders[order.id] = order
            recorded.append(InvoiceRecorded(orderID: order.id, placedAt: order.createdAt))
        }
        return recorded
    }

    /// Throws, changing nothing, if news not applied yet concerns an order not stored.
    private func refuseNewsOfUnknownOrders(_ news: [(event: IncomingEvent, orderID: UUID)]) throws {
        let missing = news.filter { orders[$0.orderID] == nil && !inbox.contains($0.event.id) }
        guard missing.isEmpty else {
            throw OrderStoreError(
                .unknownOrder, "news for orders not stored: \(missing.map { $0.orderID.uuidString.lowercased() })")
        }
    }

    package func cancel(_ orderID: UUID, reason: OrderCancelled.Reason, at time: Date, traceparent: String?)
        async throws -> CancelResult?
    {
        guard var order = orders[orderID] else { return nil }
        let previous = order.status
        let outcome = order.cancel(reason: reason, at: time)
        guard case .moves = outcome else { return CancelResult(order: order, outcome: outcome) }
        let event = try stamp.message(order.cancelledEvent!, subject: order.id, time: time, traceparent: traceparent)
        orders[orderID] = order
        record(.cancelled, of: order, at: time, from: previous)
        outbox.append([event])
        return CancelResult(order: order, outcome: outcome)
    }

    package func outOfStockCount() async throws -> Int {
        orders.values.filter { $0.cancelReason == OrderCancelled.Reason.outOfStock.rawValue }.count
    }

    package func applyPayments(_ notices: [PaymentNotice]) async throws {
        try refuseNewsOfUnknownOrders(notices.map { ($0.event, $0.orderID) })
        // A cancelled order's refund needs the order cancelled: by now, or by an
        // invoice.overdue earlier in this batch. Checked before anything changes (a throw
        // leaves everything as it was, as the PostgreSQL transaction's rollback does).
        var cancelled = Set(orders.values.filter { $0.status == .cancelled }.map(\.id))
        for notice in notices where !inbox.contains(notice.event.id) {
            if notice.kind == .overdue, let order = orders[notice.orderID],
                case .moves = OrderLifecycle.transition(from: order.status, on: .cancel)
            {
                cancelled.insert(order.id)
            }
            if notice.isCancelledOrdersRefund, !cancelled.contains(notice.orderID) {
                throw OrderStoreError(
                    .notCancelledYet, "a refund for order \(notice.orderID.uuidString.lowercased()), not cancelled yet")
            }
        }
        let now = Date()
        for notice in notices where inbox.insert(notice.event.id).inserted {
            var order = orders[notice.orderID]!
            switch notice.kind {
            case .paid:
                if order.invoiceID == nil {
                    order.invoiceID = notice.invoiceID
                    order.invoiceNumber = notice.invoiceNumber
                }
                if case .moves(let next) = OrderLifecycle.transition(from: order.status, on: .paymentCaptured) {
                    let previous = order.status
                    order.status = next
                    order.paidAt = notice.at
                    order.updatedAt = now
                    record(.paid, of: order, at: now, from: previous)
                }
            case .voided:
                if order.invoiceID == nil {
                    order.invoiceID = notice.invoiceID
                    order.invoiceNumber = notice.invoiceNumber
                }
                order.invoiceVoidedAt = order.invoiceVoidedAt ?? notice.at
            case .refunded:
                // A paid order's second capture given back changes nothing on the order.
                guard notice.isCancelledOrdersRefund, order.status == .cancelled, order.refundedAt == nil else {
                    continue
                }
                order.refundedAt = notice.at
                order.updatedAt = now
                record(.refunded, of: order, at: now, from: .cancelled)
            case .overdue:
                // invoice-service closed the invoice unpaid: cancelled as a requested
                // cancellation is, with order.cancelled (which voids the invoice).
                let previous = order.status
                guard case .moves = order.cancel(reason: .paymentOverdue, at: now) else { continue }
                outbox.append([
                    try stamp.message(
                        order.cancelledEvent!, subject: order.id, time: now, traceparent: notice.event.traceparent)
                ])
                record(.cancelled, of: order, at: now, from: previous)
            }
            orders[order.id] = order
        }
    }

    /// Appends the change that left `order` as it is, numbered next.
    private func record(_ kind: OrderChange.Kind, of order: Order, at time: Date, from previous: Order.Status? = nil) {
        var snapshot = order
        snapshot.status = kind.status
        snapshot.updatedAt = time
        if kind == .created {
            snapshot.invoiceID = nil
            snapshot.invoiceNumber = nil
        }
        // As the PostgreSQL change log keeps it: the status and the invoice, nothing more.
        snapshot.paymentDueAt = nil
        snapshot.paidAt = nil
        snapshot.cancelledAt = nil
        snapshot.cancelReason = nil
        snapshot.refundedAt = nil
        snapshot.invoiceVoidedAt = nil
        changeLog.append(
            OrderChange(
                sequence: Int64(changeLog.count + 1), kind: kind, at: time, order: snapshot, previousStatus: previous))
    }

    /// Orders per status, optionally of one customer, with the number of the last change.
    func statusCounts(customerID: UUID?) -> OrderStatusCounts {
        var counts: [Order.Status: Int] = [:]
        for order in orders.values where customerID == nil || order.customerID == customerID {
            counts[order.status, default: 0] += 1
        }
        return OrderStatusCounts(counts: counts, sequence: Int64(changeLog.count))
    }
}
