/// A payment's states and the only ways between them (see ``transition(from:on:)``).
///
/// ```
/// pending ──captured──▶ captured ──refunded──▶ refunded
///    │ ▲                   ▲
///    │ └─retried── failed ─┘ (a late capture)    pending ──declined──▶ declined
///    ├──failed───▶ failed
///    └──cancelled──▶ cancelled
/// ```
/// `failed` means the provider certainly took nothing (it refused before charging, or was
/// never called because its circuit was open); a call whose outcome is unknown (a timeout)
/// leaves the payment `pending` until the provider says what happened. A payment pending for
/// longer than any call takes is settled by cancelling its key at the provider, which answers
/// atomically: the capture if it happened first (`captured`), or `cancelled`, after which no
/// charge under the key can ever be made. It is never settled `failed` on a guess: an attempt
/// still in flight could land afterwards, money taken with no payment to show for it.
///
/// A captured payment that cannot pay its invoice (the invoice is void, or paid by another
/// payment, or overdue) stays `captured` with a refund due until the refund is made.
package enum PaymentLifecycle {
    /// Where a payment is.
    package enum Status: String, Sendable, Codable, CaseIterable {
        /// Sent, or about to be sent, to the provider; outcome not known yet.
        case pending
        /// The provider took the money.
        case captured
        /// The provider refused it (e.g. insufficient funds). Final.
        case declined
        /// Nothing was taken and nothing will be: the same Idempotency-Key may try again.
        case failed
        /// Captured, then given back (its invoice was void, or paid by another payment). Final.
        case refunded
        /// Cancelled at the provider before it charged anything: nothing was taken and nothing
        /// will be. Paying again takes a new Idempotency-Key (a provider that broke its word and
        /// captured anyway would still be believed: ``transition(from:on:)``).
        case cancelled
    }

    /// What happens to a payment.
    package enum Event: Sendable, Hashable, CaseIterable {
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
        /// The provider cancelled the charge before making it.
        case cancelled
    }

    /// The status after `event` from `status`; `nil` if the event changes nothing there
    /// (a repeat, or news that comes too late to matter).
    package static func transition(from status: Status, on event: Event) -> Status? {
        switch (status, event) {
        case (.pending, .captured): .captured
        case (.pending, .declined): .declined
        case (.pending, .failed): .failed
        case (.pending, .cancelled): .cancelled
        case (.failed, .retried): .pending
        // A late answer to an attempt that was given up on still tells the truth: the
        // provider idempotency key is the payment's, so it is this payment's money (kept if it
        // can pay the invoice, refunded otherwise). A provider keeping its word never captures
        // a cancelled key; one that did would be believed all the same.
        case (.failed, .captured), (.cancelled, .captured): .captured
        // A payment an earlier version marked failed on a guess, its key cancelled now to
        // settle what it came to (PaymentProcessor.reconcile).
        case (.failed, .cancelled): .cancelled
        case (.captured, .refunded): .refunded
        default: nil
        }
    }

    /// Whether nothing can happen to a payment in `status` any more.
    package static func isFinal(_ status: Status) -> Bool {
        status == .declined || status == .refunded
    }
}
