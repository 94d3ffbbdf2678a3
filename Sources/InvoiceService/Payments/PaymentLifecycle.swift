/// A payment's states and the only ways between them (see ``transition(from:on:)``).
///
/// ```
/// pending ──captured──▶ captured ──refunded──▶ refunded
///    │ ▲
///    │ └─retried── failed      pending ──declined──▶ declined
///    └──failed───▶ failed
/// ```
/// `failed` means the provider certainly took nothing (it refused before charging, or was
/// never called because its circuit was open); a call whose outcome is unknown (a timeout)
/// leaves the payment `pending` until the provider says what happened.
public enum PaymentLifecycle {
    /// Where a payment is.
    public enum Status: String, Sendable, Codable, CaseIterable {
        /// Sent, or about to be sent, to the provider; outcome not known yet.
        case pending
        /// The provider took the money.
        case captured
        /// The provider refused it (e.g. insufficient funds). Final.
        case declined
        /// Nothing was taken and nothing will be: the same Idempotency-Key may try again.
        case failed
        /// Captured, then given back because its order was cancelled. Final.
        case refunded
    }

    /// What happens to a payment.
    public enum Event: Sendable, Hashable, CaseIterable {
        /// The client retries with the same Idempotency-Key.
        case retried
        /// The provider reports the money taken.
        case captured
        /// The provider refuses.
        case declined
        /// The attempt ended with nothing taken.
        case failed
        /// The provider reports the money returned.
        case refunded
    }

    /// The status after `event` from `status`; `nil` if the event changes nothing there
    /// (a repeat, or news that comes too late to matter).
    public static func transition(from status: Status, on event: Event) -> Status? {
        switch (status, event) {
        case (.pending, .captured): .captured
        case (.pending, .declined): .declined
        case (.pending, .failed): .failed
        case (.failed, .retried): .pending
        // A late answer to an attempt that was given up on still tells the truth: the
        // provider idempotency key is the payment's, so it is this payment's money.
        case (.failed, .captured): .captured
        case (.captured, .refunded): .refunded
        default: nil
        }
    }

    /// Whether nothing can happen to a payment in `status` any more.
    public static func isFinal(_ status: Status) -> Bool {
        status == .declined || status == .refunded
    }
}
