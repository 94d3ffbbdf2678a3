import Contracts
package import Foundation

/// invoice-service's payments: started under their invoice's row lock (the lock
/// ``InvoiceStore`` changes invoices under), settled from the provider's answer through
/// ``PaymentLifecycle`` — a capture pays the invoice in the same transaction — and claimed for
/// reconciliation and refunds.
package protocol PaymentStore: Sendable {
    /// Records a payment about to be sent to the provider, or finds the one made under the
    /// same key. Throws ``InvoiceStoreError`` when the invoice cannot take it.
    func startPayment(_ payment: NewPayment, at time: Date) async throws -> PaymentStart

    /// Records what the provider said about a payment, through ``PaymentLifecycle``; a capture
    /// pays the invoice (`invoice.paid`) if it is still issued, and otherwise leaves a refund
    /// owed (``Invoice/take(_:at:)``: voided, overdue, or paid by another payment meanwhile).
    /// Returns the payment and its invoice as they are now. `traceparent` (the paying
    /// request's) is carried into `invoice.paid`. A `failed` outcome of `attempt`
    /// (``Payment/attempt``) is recorded only if no later attempt was sent since: that one
    /// may have charged (its own answer, or the reconciler's cancel, settles the payment).
    func settlePayment(_ id: UUID, outcome: PaymentOutcome, at time: Date, traceparent: String?, attempt: Int?)
        async throws -> (Payment, Invoice)

    /// An invoice's payments, oldest first.
    func payments(invoiceID: UUID) async throws -> [Payment]

    /// Up to `limit` captured payments with a refund due (``Payment/refundDue``), each leased
    /// to the caller for `lease` so another replica does not refund it at the same time.
    func claimRefunds(limit: Int, lease: Duration, at time: Date) async throws -> [Payment]

    /// Records the refund of a captured payment and queues `invoice.refunded`; a repeat
    /// changes nothing.
    func recordRefund(_ id: UUID, at time: Date) async throws

    /// Up to `limit` payments pending since before `cutoff` (their caller died or gave up),
    /// each leased for `lease`.
    func claimStalePayments(updatedBefore cutoff: Date, limit: Int, lease: Duration, at time: Date) async throws
        -> [Payment]

    /// Up to `limit` payments an earlier version marked `failed` on a guess (``PaymentProcessor/guessedFailure``:
    /// the provider had no record yet, while a charge may still have been on its way), each
    /// leased for `lease`: settled now by cancelling their keys.
    func claimGuessedFailures(limit: Int, lease: Duration, at time: Date) async throws -> [Payment]
}
