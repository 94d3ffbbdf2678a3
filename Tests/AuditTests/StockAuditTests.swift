import Foundation
import Testing

@testable import Audit

/// The audit's stock rules on snapshots made up to break each of them: on hand is the
/// adjustments less what was sold, never less than what is reserved; reserved is what the
/// orders hold; and every order of products is reserved, sold, rejected or given back as its
/// state at order-service says.
@Suite(.timeLimit(.minutes(1)))
struct StockAuditTests {
    let fixture = AuditChecksTests()

    /// The balanced system of ``AuditChecksTests`` with a catalog: its paid order sold 2 teas,
    /// its invoiced one holds 3, its cancelled one gave 1 back; an order cancelled for stock
    /// was rejected. 10 teas were stocked, then 5 received.
    func balanced() -> (AuditSnapshot, paid: UUID, invoiced: UUID, cancelled: UUID, rejected: UUID) {
        var (snapshot, paid, invoiced, cancelled) = fixture.balanced()
        let rejected = UUID()
        snapshot.orders = snapshot.orders.map { order in
            var order = order
            order.namesProducts = true
            if order.status == "cancelled" { order.cancelReason = "requested" }
            return order
        }
        snapshot.orders.append(
            .init(
                id: rejected, customerID: UUID(), status: "cancelled", createdAt: fixture.placedAt,
                cancelReason: "out_of_stock", namesProducts: true))
        snapshot.tallies[rejected] = (UUID(), "uncounted")
        snapshot.changes[rejected] = [
            .init(sequence: 100, event: "order.created", fromStatus: nil),
            .init(sequence: 101, event: "order.cancelled", fromStatus: "created"),
        ]
        snapshot.products = [.init(sku: "TEA", onHand: 13, reserved: 3, adjusted: 15)]
        snapshot.reservations = [
            paid: .init(state: "sold", lines: ["TEA": 2]), invoiced: .init(state: "reserved", lines: ["TEA": 3]),
            cancelled: .init(state: "returned", lines: ["TEA": 1]),
            rejected: .init(state: "rejected", lines: ["TEA": 99]),
        ]
        return (snapshot, paid, invoiced, cancelled, rejected)
    }

    @Test func balancedStockPasses() {
        let (snapshot, _, _, _, _) = balanced()
        let report = AuditChecks.run(snapshot, inFlight: fixture.quiet)
        #expect(report.isClean, "\(report)")
        #expect(report.productsAudited == 1 && report.reservations == (2, 1))
        #expect(report.summary.contains("1 products' stock (2 orders reserved, 1 rejected)"))
    }

    @Test func moreReservedThanOnHandIsOversold() {
        var (snapshot, _, invoiced, _, _) = balanced()
        snapshot.products = [.init(sku: "TEA", onHand: 2, reserved: 3, adjusted: 4)]
        snapshot.reservations[invoiced] = .init(state: "reserved", lines: ["TEA": 3])
        let report = AuditChecks.run(snapshot, inFlight: fixture.quiet)
        #expect(report.discrepancies.map(\.code) == [.oversold], "\(report)")
        #expect(report.count(.oversold) == 1)
    }

    @Test func stockTheBooksDoNotExplainIsAMismatch() {
        var (snapshot, _, _, _, _) = balanced()
        // One more unit on hand than adjustments less sales make, one fewer reserved than held.
        snapshot.products = [.init(sku: "TEA", onHand: 14, reserved: 2, adjusted: 15)]
        let report = AuditChecks.run(snapshot, inFlight: fixture.quiet)
        #expect(report.discrepancies.map(\.code) == [.stockMismatch, .stockMismatch], "\(report)")
        #expect(report.discrepancies.allSatisfy { $0.ids.first?.value == "TEA" })
    }

    @Test func anOrderAndItsReservationMustAgree() {
        var (snapshot, paid, invoiced, cancelled, rejected) = balanced()
        // Paid, but its stock still reserved; cancelled, but still holding; rejected, but the
        // order goes on; and an order of products with no reservation at all.
        snapshot.reservations[paid] = .init(state: "reserved", lines: ["TEA": 2])
        snapshot.reservations[cancelled] = .init(state: "reserved", lines: ["TEA": 1])
        snapshot.reservations[invoiced] = .init(state: "rejected", lines: ["TEA": 3])
        snapshot.reservations[rejected] = nil
        snapshot.products = [.init(sku: "TEA", onHand: 15, reserved: 3, adjusted: 15)]
        let report = AuditChecks.run(snapshot, inFlight: fixture.quiet)
        let mismatched = report.discrepancies.filter { $0.code == .reservationMismatch }.compactMap(\.ids.first?.value)
        #expect(
            Set(mismatched) == Set([paid, invoiced, cancelled, rejected].map { $0.uuidString.lowercased() }),
            "\(report)")
        // While news is on its way, the same disagreement may still settle.
        var busy = fixture.quiet
        busy.queuedMessages = ["catalog-service.order-events": 1]
        let settling = AuditChecks.run(snapshot, inFlight: busy)
        #expect(settling.discrepancies.filter { $0.code == .reservationMismatch }.isEmpty)
        #expect(settling.unsettled.filter { $0.code == .reservationMismatch }.count == 4)
    }

    @Test func aReservationOfNoOrderAndOrdersBeforeTheCatalog() {
        var (snapshot, _, invoiced, _, _) = balanced()
        snapshot.reservations[UUID()] = .init(state: "released", lines: [:])
        // An order placed before the catalog names no products and needs no reservation.
        snapshot.reservations[invoiced] = nil
        snapshot.products = [.init(sku: "TEA", onHand: 13, reserved: 0, adjusted: 15)]
        snapshot.orders = snapshot.orders.map { order in
            var order = order
            if order.id == invoiced { order.namesProducts = false }
            return order
        }
        let report = AuditChecks.run(snapshot, inFlight: fixture.quiet)
        #expect(report.discrepancies.map(\.code) == [.reservationOfNoOrder], "\(report)")
    }

    @Test func withoutTheCatalogNoStockIsAudited() {
        var (snapshot, _, _, _, _) = balanced()
        snapshot.products = nil
        let report = AuditChecks.run(snapshot, inFlight: fixture.quiet)
        #expect(report.isClean && report.productsAudited == nil)
    }

    @Test func onOrderMustBeWhatTheOpenPurchaseOrdersStillBring() {
        var (snapshot, _, _, _, _) = balanced()
        snapshot.products = [.init(sku: "TEA", onHand: 13, reserved: 3, adjusted: 15, onOrder: 10, stillOrdered: 5)]
        let report = AuditChecks.run(snapshot, inFlight: fixture.quiet)
        #expect(report.discrepancies.map(\.code) == [.stockMismatch], "\(report)")
    }

    @Test func aReservationMustHoldWhatTheOrderAskedFor() {
        var (snapshot, _, invoiced, cancelled, _) = balanced()
        snapshot.orders = snapshot.orders.map { order in
            var order = order
            order.productLines = ["TEA": order.id == invoiced ? 2 : 1]
            return order
        }
        // The invoiced order asked for 2 and holds 3; the cancelled one was cancelled before it
        // was seen and so reserved nothing, which is right.
        snapshot.reservations[cancelled] = .init(state: "released", lines: [:])
        snapshot.products = [.init(sku: "TEA", onHand: 13, reserved: 3, adjusted: 15)]
        let report = AuditChecks.run(snapshot, inFlight: fixture.quiet)
        let mismatched = report.discrepancies.filter { $0.code == .reservationMismatch }.compactMap(\.ids.first?.value)
        #expect(mismatched.contains(invoiced.uuidString.lowercased()), "\(report)")
        #expect(!mismatched.contains(cancelled.uuidString.lowercased()), "\(report)")
    }
}
