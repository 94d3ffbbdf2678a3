import Foundation
import Testing

@testable import Audit

/// The audit's rules on snapshots made up to break each of them: a balanced system passes,
/// and each way the books can be wrong is named, with its ids, as a discrepancy — or as
/// unsettled while something is still in flight.
@Suite(.timeLimit(.minutes(1)))
struct AuditChecksTests {
    let placedAt = Date(timeIntervalSince1970: 1_800_000_000)
    let customer = UUID()

    /// Nothing in flight: what is found is a discrepancy.
    var quiet: InFlight {
        var inFlight = InFlight()
        inFlight.queuedMessages = [:]
        return inFlight
    }

    /// A balanced system: a paid order, an invoiced one, and one cancelled after its payment
    /// (refunded).
    func balanced() -> (AuditSnapshot, paid: UUID, invoiced: UUID, cancelled: UUID) {
        var snapshot = AuditSnapshot()
        snapshot.takenAt = placedAt.addingTimeInterval(60)
        let (paid, invoiced, cancelled) = (UUID(), UUID(), UUID())
        let statuses = [(paid, "paid", "paid"), (invoiced, "invoiced", "issued"), (cancelled, "cancelled", "void")]
        for (index, (order, status, invoiceStatus)) in statuses.enumerated() {
            snapshot.orders.append(.init(id: order, customerID: customer, status: status, createdAt: placedAt))
            let invoice = UUID()
            snapshot.invoices.append(
                .init(
                    id: invoice, number: "INV-2026-00000\(index + 1)", orderID: order, status: invoiceStatus, total: 12)
            )
            snapshot.tallies[order] = (customer, status == "cancelled" ? "uncounted" : "counted")
            var history: [AuditSnapshot.Change] = [
                .init(sequence: Int64(index * 10 + 1), event: "order.created", fromStatus: nil)
            ]
            history.append(.init(sequence: Int64(index * 10 + 2), event: "order.invoiced", fromStatus: "created"))
            if status == "paid" {
                history.append(.init(sequence: Int64(index * 10 + 3), event: "order.paid", fromStatus: "invoiced"))
                let key = UUID().uuidString.lowercased()
                snapshot.payments.append(
                    .init(key: key, invoiceID: invoice, status: "captured", amount: 12, refundDue: nil))
                snapshot.charges.append(.init(key: key, status: "captured", amount: 12))
            }
            if status == "cancelled" {
                history.append(.init(sequence: Int64(index * 10 + 3), event: "order.cancelled", fromStatus: "invoiced"))
                history.append(.init(sequence: Int64(index * 10 + 4), event: "order.refunded", fromStatus: "cancelled"))
                let key = UUID().uuidString.lowercased()
                snapshot.payments.append(
                    .init(key: key, invoiceID: invoice, status: "refunded", amount: 12, refundDue: "invoice_void"))
                snapshot.charges.append(.init(key: key, status: "refunded", amount: 12))
            }
            snapshot.changes[order] = history
        }
        snapshot.ordersCounts[customer] = 2
        return (snapshot, paid, invoiced, cancelled)
    }

    func codes(_ report: AuditReport) -> [String] { report.discrepancies.map(\.code.name).sorted() }

    @Test func aBalancedSystemPasses() {
        let (snapshot, paid, invoiced, cancelled) = balanced()
        let report = AuditChecks.run(snapshot, accepted: [paid, invoiced, cancelled], inFlight: quiet)
        #expect(report.isClean, "\(report)")
        #expect(
            report.ordersAudited == 3 && report.refunds == 1
                && report.states == ["paid": 1, "invoiced": 1, "cancelled": 1])
    }

    /// The done-means case: money captured at the provider that no payment records.
    @Test func aCaptureLeftUnrecordedIsNamedWithItsInvoiceAndPayment() throws {
        var (snapshot, _, invoiced, _) = balanced()
        let invoice = try #require(snapshot.invoices.first { $0.orderID == invoiced })
        let key = UUID().uuidString.lowercased()
        snapshot.payments.append(.init(key: key, invoiceID: invoice.id, status: "failed", amount: 12, refundDue: nil))
        snapshot.charges.append(.init(key: key, status: "captured", amount: 12))
        let report = AuditChecks.run(snapshot, inFlight: quiet)
        #expect(codes(report) == ["capture_without_payment", "money_mismatch"], "\(report)")
        let capture = try #require(report.discrepancies.first { $0.code == .captureWithoutPayment })
        #expect(
            capture.description.contains("invoice=\(invoice.id.uuidString.lowercased())")
                && capture.description.contains("payment=\(key)"))
        // A charge under a key no payment has at all.
        var orphan = balanced().0
        orphan.charges.append(.init(key: "k-nobody", status: "captured", amount: 3))
        #expect(
            AuditChecks.run(orphan, inFlight: quiet).discrepancies.map(\.description) == [
                "capture_without_payment key=k-nobody: provider captured 3 under a key no payment has"
            ])
    }

    @Test func moneyOnTheWayIsUnsettledThenADiscrepancyOnceNothingIsInFlight() throws {
        var (snapshot, _, invoiced, _) = balanced()
        let invoice = try #require(snapshot.invoices.first { $0.orderID == invoiced })
        // Captured at the provider, the payment not told yet (pending): in flight.
        let key = UUID().uuidString.lowercased()
        snapshot.payments.append(
            .init(key: key, invoiceID: invoice.id, status: "pending", amount: 12, refundDue: nil, updatedAt: placedAt))
        snapshot.charges.append(.init(key: key, status: "captured", amount: 12))
        var inFlight = quiet
        inFlight.pendingPayments = 1
        let report = AuditChecks.run(snapshot, inFlight: inFlight)
        #expect(report.discrepancies.isEmpty && report.unsettled.map(\.code) == [.moneyMismatch], "\(report)")
        // A refund owed and not made: in flight too; once nothing is, a paid invoice with its
        // money refunded is a discrepancy.
        var refunded = balanced().0
        let paidKey = refunded.payments.first { $0.status == "captured" }!.key
        refunded.charges = refunded.charges.map {
            $0.key == paidKey ? .init(key: paidKey, status: "refunded", amount: 12) : $0
        }
        // Named twice: the kept payment refunded at the provider, and the invoice's net.
        #expect(codes(AuditChecks.run(refunded, inFlight: quiet)) == ["money_mismatch", "money_mismatch"])
    }

    @Test func ordersLostOrDoubledOnTheirWayThroughTheServicesAreNamed() throws {
        var (snapshot, paid, invoiced, cancelled) = balanced()
        let stray = UUID()
        // An order accepted but not stored; an invoice twice; a count missing.
        var report = AuditChecks.run(snapshot, accepted: [paid, invoiced, cancelled, stray], inFlight: quiet)
        #expect(
            report.discrepancies.map(\.description) == [
                "order_missing order=\(stray.uuidString.lowercased()): accepted (201) but not stored by order-service"
            ])
        let twice = snapshot.invoices.first { $0.orderID == invoiced }!
        snapshot.invoices.append(
            .init(id: UUID(), number: "INV-2026-000004", orderID: invoiced, status: "issued", total: 12))
        snapshot.tallies[paid] = nil
        report = AuditChecks.run(snapshot, inFlight: quiet)
        #expect(codes(report) == ["invoiced_twice", "not_counted"], "\(report)")
        #expect(
            report.discrepancies.first { $0.code == .invoicedTwice }?.description.contains(
                twice.id.uuidString.lowercased()) == true)
        #expect(report.count(.doubled) == 1 && report.count(.lost) >= 1)
        // While events are on their way, what they may yet mend is unsettled, the rest is not.
        var busy = quiet
        busy.queuedMessages = ["customer-service.order-created": 3]
        report = AuditChecks.run(snapshot, inFlight: busy)
        #expect(codes(report) == ["invoiced_twice"] && report.unsettled.map(\.code.name).contains("not_counted"))
    }

    @Test func invoiceNumbersMustRunWithoutHolesOrRepeatsInEachYear() {
        var (snapshot, _, _, _) = balanced()
        snapshot.invoices[2].number = "INV-2026-000005"
        snapshot.invoices[1].number = "INV-2026-000001"
        let report = AuditChecks.run(snapshot, inFlight: quiet)
        #expect(codes(report) == ["invoice_number_gap", "invoice_number_reused"], "\(report)")
        #expect(
            report.discrepancies.first { $0.code == .numberGap }?.message
                == "numbers missing: INV-2026-000002, INV-2026-000003, INV-2026-000004")
    }

    @Test func statusesMustAgreeOnceNothingIsInFlight() throws {
        var (snapshot, paid, _, _) = balanced()
        // order-service says paid, invoice-service void: the cancellation won at one service only.
        let index = try #require(snapshot.invoices.firstIndex { $0.orderID == paid })
        snapshot.invoices[index].status = "void"
        let report = AuditChecks.run(snapshot, inFlight: quiet)
        #expect(
            report.discrepancies.contains {
                $0.code == .statusMismatch && $0.description.contains(paid.uuidString.lowercased())
            }, "\(report)")
        var busy = quiet
        busy.unsentOutbox = ["invoice-service": 1]
        #expect(AuditChecks.run(snapshot, inFlight: busy).unsettled.contains { $0.code == .statusMismatch })
    }

    /// Issue 23, item 3: `order.paid` numbered before `order.invoiced`.
    @Test func changesNumberedOutOfTheOrderTheyHappenedInAreNamed() {
        var (snapshot, paid, _, _) = balanced()
        snapshot.changes[paid] = [
            .init(sequence: 1, event: "order.created", fromStatus: nil),
            .init(sequence: 2, event: "order.paid", fromStatus: "invoiced"),
            .init(sequence: 3, event: "order.invoiced", fromStatus: "created"),
        ]
        let report = AuditChecks.run(snapshot, inFlight: quiet)
        #expect(codes(report) == ["changes_out_of_order"], "\(report)")
        #expect(report.discrepancies[0].description.contains("order.created → order.paid → order.invoiced"))
        // Changes not numbered yet are not a gap.
        var queued = balanced()
        queued.0.changes[queued.paid]?.removeLast()
        queued.0.ordersWithQueuedChanges = [queued.paid]
        #expect(AuditChecks.run(queued.0, inFlight: quiet).discrepancies.isEmpty)
    }

    @Test func ordersPlacedOrChangedAfterTheFirstSnapshotWaitForTheNextAudit() {
        var (snapshot, _, _, _) = balanced()
        let late = UUID()
        snapshot.orders.append(
            .init(id: late, customerID: customer, status: "created", createdAt: snapshot.takenAt.addingTimeInterval(1)))
        snapshot.changes[late] = [.init(sequence: 99, event: "order.created", fromStatus: nil)]
        let report = AuditChecks.run(snapshot, inFlight: quiet)
        #expect(report.isClean && report.tooNew == 1, "\(report)")
    }

    /// The capture that pays an invoice, refunded at the provider, while the capture owed back
    /// is still held: the net is right, the money is not.
    @Test func theCaptureThatPaysItsInvoiceMustStillBeCapturedAtTheProvider() throws {
        var (snapshot, paid, _, _) = balanced()
        let invoice = try #require(snapshot.invoices.first { $0.orderID == paid })
        let kept = try #require(snapshot.payments.firstIndex { $0.invoiceID == invoice.id })
        snapshot.charges = snapshot.charges.map {
            $0.key == snapshot.payments[kept].key ? .init(key: $0.key, status: "refunded", amount: 12) : $0
        }
        let owed = UUID().uuidString.lowercased()
        snapshot.payments.append(
            .init(
                key: owed, invoiceID: invoice.id, status: "captured", amount: 12,
                refundDue: "invoice_paid_by_another_payment"))
        snapshot.charges.append(.init(key: owed, status: "captured", amount: 12))
        var inFlight = quiet
        inFlight.refundsDue = 1
        let report = AuditChecks.run(snapshot, inFlight: inFlight)
        #expect(
            report.discrepancies.contains {
                $0.code == .moneyMismatch && $0.description.contains("payment=\(snapshot.payments[kept].key)")
            }, "\(report)")
    }

    /// A busy system cannot hide a discrepancy for ever: one about an order that has not
    /// changed for longer than any news takes counts, whatever else is in flight.
    @Test func aDiscrepancyStuckLongerThanNewsTakesCountsEvenWhileBusy() {
        var (snapshot, paid, _, _) = balanced()
        snapshot.tallies[paid] = nil
        var busy = quiet
        busy.queuedMessages = ["customer-service.order-created": 40]
        #expect(AuditChecks.run(snapshot, inFlight: busy).unsettled.map(\.code) == [.notCounted])
        snapshot.takenAt = placedAt.addingTimeInterval(3600)
        #expect(
            AuditChecks.run(snapshot, inFlight: busy, stuckAfter: .seconds(600)).discrepancies.map(\.code) == [
                .notCounted
            ])
    }

    @Test func aDiscrepancyIsTheSameWhateverItsFiguresSay() {
        let before = Discrepancy(.overcounted, ids: [("customer", "c1")], "orders_count 5, orders not cancelled 4")
        let after = Discrepancy(.overcounted, ids: [("customer", "c1")], "orders_count 6, orders not cancelled 5")
        #expect(before.identity == after.identity && before != after)
    }

    /// Histories numbered by an earlier version (xid order alone) are reported as history,
    /// not as a discrepancy of this version.
    @Test func anOutOfOrderHistoryFromBeforeTheUpgradeIsHistory() {
        var (snapshot, paid, _, _) = balanced()
        snapshot.changes[paid] = [
            .init(sequence: 1, event: "order.created", fromStatus: nil),
            .init(sequence: 2, event: "order.paid", fromStatus: "invoiced"),
            .init(sequence: 3, event: "order.invoiced", fromStatus: "created"),
        ]
        snapshot.changesInOrderSince = 3
        let report = AuditChecks.run(snapshot, inFlight: quiet)
        #expect(report.discrepancies.isEmpty && report.history.map(\.code) == [.changesOutOfOrder], "\(report)")
        #expect(report.description.contains("HISTORY changes_out_of_order order=\(paid.uuidString.lowercased())"))
    }
}
