import Contracts
package import Foundation
package import Logging
import ServiceKit

/// Takes payments through the provider, and repairs what a crash or a race left behind: the
/// orchestration around ``PaymentStore`` (states, under the invoice's lock) and
/// ``PaymentGateway`` (money, never inside a database transaction).
///
/// A payment is recorded `pending` before the provider is called, with the payment's id as
/// the provider's idempotency key. Whatever happens next — the provider declines, fails,
/// hangs, the process dies — the payment ends in a state that matches the provider's books:
/// the caller's retry (same `Idempotency-Key`) sends the charge again under the same key,
/// which never charges twice, and ``reconcile(at:)`` settles a payment nobody asks about any
/// more by cancelling its key at the provider, which answers atomically what the key came to
/// (captured, declined, or cancelled and never to be charged). A payment is never settled
/// `failed` on a guess while an attempt may still land: that would be money taken with no
/// payment to show for it, and the customer's next payment a second charge. Money that
/// lands where it cannot stay (a void or overdue invoice, or one paid by another payment) is
/// refunded by ``reconcile(at:)``.
package struct PaymentProcessor: Sendable {
    private let store: any PaymentStore
    private let invoices: any InvoiceStore
    private let gateway: any PaymentGateway
    private let logger: Logger
    /// A payment left `pending` this long has no caller any more: the reconciler settles it.
    private let staleAfter: Duration
    /// Wakes the reconciler when a refund becomes owed.
    let refundsOwed: WakeSignal<ContinuousClock>

    /// The reason versions before cancel-at-the-provider gave a pending payment they settled
    /// `failed` on a guess. The reconciler settles such payments again by cancelling their
    /// keys: a charge that landed after the guess is then found (and kept or refunded).
    package static let guessedFailure = "the provider has no record of the charge"

    /// Creates the processor; `staleAfter` must exceed the longest call to the gateway.
    package init(
        store: any PaymentStore, invoices: any InvoiceStore, gateway: any PaymentGateway, staleAfter: Duration,
        logger: Logger
    ) {
        self.store = store
        self.invoices = invoices
        self.gateway = gateway
        self.staleAfter = staleAfter
        self.logger = logger
        self.refundsOwed = WakeSignal()
    }

    /// Pays an invoice, or answers what the payment under the same key came to. Throws
    /// ``InvoiceStoreError`` when the invoice cannot take it.
    package func pay(_ new: NewPayment) async throws -> (Payment, Invoice) {
        let start = try await store.startPayment(new, at: Date())
        let payment = start.payment
        guard payment.status == .pending else {
            // Final, or failed on an invoice that no longer takes payments: as it is now.
            return (payment, try await invoices.invoice(id: payment.invoiceID) ?? start.invoice)
        }
        let outcome: PaymentOutcome?
        if start.invoice.status == .issued {
            outcome = await charge(payment)
        } else {
            // A pending payment of an invoice that is paid, overdue or void: never charge now;
            // cancel what the earlier attempt may still do, and learn what it did.
            outcome = await cancel(payment)
        }
        guard let outcome else { return (payment, start.invoice) }
        return try await settle(payment, outcome, traceparent: new.traceparent, attempt: payment.attempt)
    }

    /// The provider's answer to a charge, as a payment outcome; `nil` if nobody knows yet
    /// (timed out, or the answer was lost): the payment stays pending.
    private func charge(_ payment: Payment) async -> PaymentOutcome? {
        do {
            let request = ChargeRequest(
                key: payment.providerKey, amount: payment.amount, method: payment.method, token: payment.token,
                description: "invoice \(payment.invoiceID.uuidString.lowercased())")
            return PaymentOutcome(try await gateway.charge(request))
        } catch let error as PaymentGatewayError where error.nothingCharged {
            return .failed(
                reason: error.code == .circuitOpen ? "payment_provider_unavailable" : "payment_provider_error")
        } catch {
            logger.warning(
                "payment outcome unknown",
                metadata: ["payment.id": "\(payment.providerKey)", "error.message": "\(error)"])
            return nil
        }
    }

    /// Cancels the payment's key at the provider and answers what it came to: the capture or
    /// decline that happened first, or `cancelled` (nothing taken, ever); `nil` if the provider
    /// could not be asked (the payment stays pending for the next round).
    private func cancel(_ payment: Payment) async -> PaymentOutcome? {
        do {
            return PaymentOutcome(try await gateway.cancel(key: payment.providerKey))
        } catch {
            logger.warning(
                "could not cancel a payment at the provider; will retry",
                metadata: ["payment.id": "\(payment.providerKey)", "error.message": "\(error)"])
            return nil
        }
    }

    private func settle(_ payment: Payment, _ outcome: PaymentOutcome, traceparent: String? = nil, attempt: Int? = nil)
        async throws -> (Payment, Invoice)
    {
        let (settled, invoice) = try await store.settlePayment(
            payment.id, outcome: outcome, at: Date(), traceparent: traceparent, attempt: attempt)
        if settled.status == .captured, let reason = settled.refundDue {
            // Captured where it cannot stay: compensate now, not at the next round.
            logger.info(
                "payment captured for an invoice it cannot pay; refunding",
                metadata: ["payment.id": "\(settled.providerKey)", "payment.refund_reason": "\(reason.rawValue)"])
            refundsOwed.signal()
        }
        return (settled, invoice)
    }

    /// One round of repairs: refunds every captured payment with a refund due, settles
    /// payments left pending by a caller that is gone by cancelling them at the provider, and
    /// does the same for payments an earlier version settled `failed` on a guess. Safe on
    /// several replicas at once: each payment is leased to one of them. A payment that fails
    /// to settle is left for the next round without holding up the others. Returns how many
    /// payments it moved on.
    @discardableResult
    package func reconcile(at now: Date = Date()) async throws -> Int {
        var done = 0
        for payment in try await store.claimRefunds(limit: 50, lease: .seconds(60), at: now) {
            guard let reference = payment.providerReference else { continue }
            do {
                try await gateway.refund(
                    reference: reference, amount: payment.amount, key: "refund-" + payment.providerKey)
                try await store.recordRefund(payment.id, at: Date())
                logger.info(
                    "refunded",
                    metadata: ["payment.id": "\(payment.providerKey)", "payment.amount": "\(payment.amount)"])
                done += 1
            } catch {
                // Leased for a minute: the next rounds after that try again.
                logger.warning(
                    "refund failed; will retry",
                    metadata: ["payment.id": "\(payment.providerKey)", "error.message": "\(error)"])
            }
        }
        let cutoff = now.addingTimeInterval(-staleAfter.timeInterval)
        let unsettled =
            try await store.claimStalePayments(updatedBefore: cutoff, limit: 50, lease: .seconds(60), at: now)
            + store.claimGuessedFailures(limit: 50, lease: .seconds(60), at: now)
        for payment in unsettled {
            guard let outcome = await cancel(payment) else { continue }
            do {
                _ = try await settle(payment, outcome)
                done += 1
            } catch {
                logger.warning(
                    "could not settle a payment; will retry",
                    metadata: ["payment.id": "\(payment.providerKey)", "error.message": "\(error)"])
            }
        }
        return done
    }
}
