package import Contracts
package import Foundation

/// A payment of an invoice, as invoice-service records it before, during and after the call
/// to the provider.
package struct Payment: Sendable, Hashable {
    /// The payment's id, also its idempotency key at the provider.
    package var id: UUID
    /// The invoice paid.
    package var invoiceID: UUID
    /// The client's `Idempotency-Key` (unique per invoice).
    package var idempotencyKey: String
    /// The canonical request it came with: a reused key with another request is refused.
    package var request: String
    /// How much.
    package var amount: Money
    /// `card`, `bank_transfer` or `wallet`.
    package var method: String
    /// The client's provider token, passed on.
    package var token: String?
    /// Where it is.
    package var status: PaymentLifecycle.Status
    /// The provider's id of the capture, once captured.
    package var providerReference: String?
    /// Why it was declined, failed or cancelled.
    package var failureReason: String?
    /// Why a captured payment must be given back (its invoice was voided, or paid by another
    /// payment, or overdue); `nil` when it is kept. Set under the invoice's lock, read by the
    /// reconciler that refunds.
    package var refundDue: RefundReason?
    /// How many times it has been sent to the provider: 1, and one more each time its
    /// client asks again while it is pending or after it failed. A `failed` answer belongs to
    /// one attempt and is recorded only if no later one was sent (which may have charged).
    package var attempt: Int = 1
    /// When it was first requested.
    package var createdAt: Date
    /// When it last changed.
    package var updatedAt: Date

    /// Creates a payment.
    package init(
        id: UUID, invoiceID: UUID, idempotencyKey: String, request: String, amount: Money, method: String,
        token: String?,
        status: PaymentLifecycle.Status, providerReference: String? = nil, failureReason: String? = nil,
        refundDue: RefundReason? = nil,
        createdAt: Date, updatedAt: Date
    ) {
        self.id = id
        self.invoiceID = invoiceID
        self.idempotencyKey = idempotencyKey
        self.request = request
        self.amount = amount
        self.method = method
        self.token = token
        self.status = status
        self.providerReference = providerReference
        self.failureReason = failureReason
        self.refundDue = refundDue
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// The key the provider knows this payment by.
    package var providerKey: String { id.uuidString.lowercased() }

    /// The payment after `outcome` at `time`, through ``PaymentLifecycle``; `nil` if the
    /// outcome changes nothing (a repeat, or news too late to matter).
    package func applying(_ outcome: PaymentOutcome, at time: Date) -> Payment? {
        guard let next = PaymentLifecycle.transition(from: status, on: outcome.event) else { return nil }
        var payment = self
        payment.status = next
        payment.updatedAt = time
        switch outcome {
        case .captured(let reference):
            payment.providerReference = reference
            payment.failureReason = nil
        case .declined(let reason), .failed(let reason): payment.failureReason = reason
        case .cancelled: payment.failureReason = "cancelled at the provider before it charged"
        }
        return payment
    }
}

/// What the provider's answer (or its absence) means for a payment.
package enum PaymentOutcome: Sendable, Hashable {
    /// Money taken; the provider's reference.
    case captured(reference: String)
    /// Refused, with the provider's reason.
    case declined(reason: String)
    /// Nothing was taken (provider down, or circuit open).
    case failed(reason: String)
    /// The provider cancelled the charge before making it: nothing taken, ever.
    case cancelled

    /// What the provider's answer means for the payment.
    init(_ charge: ChargeOutcome) {
        switch charge {
        case .captured(let reference): self = .captured(reference: reference)
        case .declined(let reason): self = .declined(reason: reason)
        case .cancelled: self = .cancelled
        }
    }

    /// The lifecycle event it is.
    var event: PaymentLifecycle.Event {
        switch self {
        case .captured: .captured
        case .declined: .declined
        case .failed: .failed
        case .cancelled: .cancelled
        }
    }
}
