public import Contracts
public import Foundation

/// A payment of an invoice, as invoice-service records it before, during and after the call
/// to the provider.
public struct Payment: Sendable, Hashable {
    /// The payment's id, also its idempotency key at the provider.
    public var id: UUID
    /// The invoice paid.
    public var invoiceID: UUID
    /// The client's `Idempotency-Key` (unique per invoice).
    public var idempotencyKey: String
    /// The canonical request it came with: a reused key with another request is refused.
    public var request: String
    /// How much.
    public var amount: Money
    /// `card`, `bank_transfer` or `wallet`.
    public var method: String
    /// The client's provider token, passed on.
    public var token: String?
    /// Where it is.
    public var status: PaymentLifecycle.Status
    /// The provider's id of the capture, once captured.
    public var providerReference: String?
    /// Why it was declined, failed or cancelled.
    public var failureReason: String?
    /// Why a captured payment must be given back (its invoice was voided, or paid by another
    /// payment, or overdue); `nil` when it is kept. Set under the invoice's lock, read by the
    /// reconciler that refunds.
    public var refundDue: RefundReason?
    /// How many times it has been sent to the provider: 1, and one more each time its
    /// client asks again while it is pending or after it failed. A `failed` answer belongs to
    /// one attempt and is recorded only if no later one was sent (which may have charged).
    public var attempt: Int = 1
    /// When it was first requested.
    public var createdAt: Date
    /// When it last changed.
    public var updatedAt: Date

    /// Creates a payment.
    public init(
        id: UUID, invoiceID: UUID, idempotencyKey: String, request: String, amount: Money, method: String, token: String?,
        status: PaymentLifecycle.Status, providerReference: String? = nil, failureReason: String? = nil, refundDue: RefundReason? = nil,
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
    public var providerKey: String { id.uuidString.lowercased() }

    /// The payment after `outcome` at `time`, through ``PaymentLifecycle``; `nil` if the
    /// outcome changes nothing (a repeat, or news too late to matter).
    public func applying(_ outcome: PaymentOutcome, at time: Date) -> Payment? {
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
public enum PaymentOutcome: Sendable, Hashable {
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
