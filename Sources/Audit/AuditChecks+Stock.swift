import Foundation

extension AuditChecks {
    /// The stock: never more promised than on hand, on hand what its books say (adjustments
    /// less sales), reserved what its orders hold, and every order of products reserved,
    /// rejected or given back as the order's state says.
    static func auditStock(
        _ snapshot: AuditSnapshot, products: [AuditSnapshot.Product], orders: [UUID: AuditSnapshot.Order],
        settledOrders: [AuditSnapshot.Order], into findings: inout Findings
    ) {
        var held: [String: Int] = [:]
        var sold: [String: Int] = [:]
        for reservation in snapshot.reservations.values {
            for (sku, units) in reservation.lines {
                if reservation.state == "reserved" { held[sku, default: 0] += units }
                if reservation.state == "sold" { sold[sku, default: 0] += units }
            }
        }
        // One snapshot of one database: nothing in flight explains a difference here.
        for product in products.sorted(by: { $0.sku < $1.sku }) {
            let ids = [("sku", product.sku)]
            if product.reserved > product.onHand || product.reserved < 0 || product.onHand < 0 {
                findings.definite(.oversold, ids, "\(product.reserved) reserved of \(product.onHand) on hand")
            }
            if product.onHand != product.adjusted - sold[product.sku, default: 0] {
                findings.definite(
                    .stockMismatch, ids,
                    "\(product.onHand) on hand; its adjustments make \(product.adjusted), less \(sold[product.sku, default: 0]) sold"
                )
            }
            if product.reserved != held[product.sku, default: 0] {
                findings.definite(
                    .stockMismatch, ids,
                    "\(product.reserved) reserved; the orders holding it hold \(held[product.sku, default: 0])")
            }
            if product.onOrder != product.stillOrdered {
                findings.definite(
                    .stockMismatch, ids,
                    "\(product.onOrder) on order; its open purchase orders still bring \(product.stillOrdered)")
            }
        }
        for (id, _) in snapshot.reservations.sorted(by: { $0.key.uuidString < $1.key.uuidString })
        where orders[id] == nil {
            findings.definite(
                .reservationOfNoOrder, ["order": id], "catalog-service holds a reservation for no stored order")
        }
        // What each order reserved is what its lines ask for (a rejected one reserved nothing).
        for order in snapshot.orders where !order.productLines.isEmpty {
            guard let reservation = snapshot.reservations[order.id],
                ["reserved", "sold", "released", "returned"].contains(reservation.state),
                // Cancelled before it was seen, it reserved nothing: its lines stay empty.
                !reservation.lines.isEmpty, reservation.lines != order.productLines
            else { continue }
            findings.definite(
                .reservationMismatch, ["order": order.id],
                "its lines ask for \(order.productLines.sorted { $0.key < $1.key }), its reservation holds \(reservation.lines.sorted { $0.key < $1.key })"
            )
        }
        // Where each order of products must be, by its state at order-service.
        for order in settledOrders where order.namesProducts {
            let state = snapshot.reservations[order.id]?.state
            let expected: Set<String> =
                switch order.status {
                case "paid": ["sold"]
                case "cancelled" where order.cancelReason == "out_of_stock": ["rejected"]
                case "cancelled": ["released", "cancelled_first", "returned", "rejected"]
                default: ["reserved"]
                }
            if let state, expected.contains(state) { continue }
            let news = snapshot.unsentSubjects.contains(order.id) || snapshot.ordersWithQueuedChanges.contains(order.id)
            findings.settling(
                .reservationMismatch, ["order": order.id],
                "order \(order.status)\(order.cancelReason.map { " (\($0))" } ?? ""), its stock \(state ?? "not reserved"); expected \(expected.sorted().joined(separator: " or "))",
                busy: news, since: order.updatedAt)
        }
    }
}
