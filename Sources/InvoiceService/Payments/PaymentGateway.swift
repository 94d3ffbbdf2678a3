package import Contracts
import Foundation

/// A payment provider: the one place money moves. The shipped implementation is
/// ``SimulatedPaymentGateway``; a real provider's adapter fills the same shape, and
/// ``ResilientPaymentGateway`` puts a timeout, retries and a circuit breaker around either.
///
/// Every operation is idempotent under its key, as real providers' APIs are (an
/// `Idempotency-Key` header, a payment intent id): sending a charge twice, after a timeout
/// or a crash, charges once and answers the first outcome.
package protocol PaymentGateway: Sendable {
    /// Charges `request.amount`; a repeat of `request.key` answers the first charge's
    /// outcome and charges nothing more. Throws ``PaymentGatewayError``.
    func charge(_ request: ChargeRequest) async throws -> ChargeOutcome

    /// The charge made under `key`, if the provider made one, as its books say now (a charge
    /// still in flight may land after this answer: settle by ``cancel(key:)`` instead).
    func charge(key: String) async throws -> ChargeOutcome?

    /// Cancels the charge under `key` unless it was made: answers what the key came to, atomically
    /// at the provider — the capture or decline if it happened first, ``ChargeOutcome/cancelled``
    /// otherwise, and then no charge is ever made under `key` (a request still in flight answers
    /// `cancelled`), as real providers' cancellable payment intents do. How a payment whose
    /// outcome is unknown is settled without ever leaving money taken and unrecorded.
    func cancel(key: String) async throws -> ChargeOutcome

    /// Gives back the whole of the charge `reference`; a repeat of `key` refunds nothing more.
    func refund(reference: String, amount: Money, key: String) async throws
}

/// One charge to make.
package struct ChargeRequest: Sendable, Hashable {
    /// The provider-side idempotency key: the payment's id.
    package var key: String
    /// How much.
    package var amount: Money
    /// `card`, `bank_transfer` or `wallet`.
    package var method: String
    /// What the client's provider SDK handed over for the method (a tokenized card); the
    /// simulator reads its test tokens from it.
    package var token: String?
    /// For the provider's records.
    package var description: String

    /// Creates a request.
    package init(key: String, amount: Money, method: String, token: String?, description: String) {
        self.key = key
        self.amount = amount
        self.method = method
        self.token = token
        self.description = description
    }
}

/// What a provider answered to a charge.
package enum ChargeOutcome: Sendable, Hashable {
    /// The money was taken; `reference` is the provider's id for it (for refunds).
    case captured(reference: String)
    /// The provider refused, for `reason` (e.g. `insufficient_funds`). Nothing was taken.
    case declined(reason: String)
    /// The charge was cancelled before it was made (``PaymentGateway/cancel(key:)``). Nothing
    /// was taken, and nothing ever will be under its key.
    case cancelled
}

/// A call to a provider that did not produce an answer.
package struct PaymentGatewayError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What went wrong.
    package struct Code: Hashable, Sendable, CustomStringConvertible {
        private let value: String
        private init(_ value: String) { self.value = value }
        package var description: String { value }

        /// The provider failed and says nothing was done (a 5xx before charging, a refused
        /// connection): worth retrying.
        package static let unavailable = Code("unavailable")
        /// No answer in time, or the connection broke after the request was sent: the charge
        /// may or may not have been made. Retrying with the same key is safe.
        package static let outcomeUnknown = Code("outcomeUnknown")
        /// The circuit breaker is open: the provider was not called.
        package static let circuitOpen = Code("circuitOpen")
        /// The provider rejected the request itself (not the payment): retrying cannot help.
        package static let rejected = Code("rejected")
    }

    /// What went wrong.
    package var code: Code
    /// Details for logs.
    package var message: String

    /// Creates the error.
    package init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// Whether another attempt may succeed.
    package var isTransient: Bool { code == .unavailable || code == .outcomeUnknown }

    /// Whether the provider certainly took nothing.
    package var nothingCharged: Bool { code != .outcomeUnknown }

    package var description: String { "PaymentGatewayError.\(code): \(message)" }
}
