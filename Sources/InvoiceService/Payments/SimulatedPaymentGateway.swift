package import Contracts
import Foundation
import Locking
package import Logging

/// A stand-in payment provider, so every path of a payment can be exercised without a real
/// one: configurable latency, transient failures, declines, answers lost after charging, and
/// a hang mode. It keeps its own books in a ``SimulatedProviderLedger`` (in production a
/// table of its own, written in transactions of its own, as separate from the invoices as a
/// real provider's), which is what audits compare the invoices with.
///
/// In test mode only (``Configuration/testMode``), test tokens, as real providers' sandboxes
/// have, pick an outcome for one charge: `tok_decline` (declined, `insufficient_funds`),
/// `tok_fail` (transient failure, nothing charged), `tok_hang` (never answers),
/// `tok_lost_response` (charges, then the connection breaks), `tok_slow` (charges after
/// ``Configuration/slowCharge``, a second by default: room for a cancellation to race it).
/// Outside test mode a token is passed on and means nothing, as a card token means nothing to
/// a provider's live mode: otherwise any customer could make the provider fail on purpose and
/// open the circuit breaker every customer's payments go through. Any other token, or none,
/// charges subject to the configured rates.
///
/// A charge, once sent, goes on at the provider whether or not the caller still waits for its
/// answer (it runs in a task of its own): a caller's timeout does not stop a real provider
/// either, which is why an unknown outcome is settled by ``cancel(key:)``.
package struct SimulatedPaymentGateway<C: Clock>: PaymentGateway where C.Duration == Duration {
    /// How the simulator behaves, from `PAYMENT_SIM_*`.
    package struct Configuration: Sendable {
        /// `PAYMENT_SIM_LATENCY_MS`: how long each call takes. Default 20 ms.
        package var latency: Duration = .milliseconds(20)
        /// `PAYMENT_SIM_FAILURE_RATE`: share of calls that fail transiently, charging nothing. Default 0.
        package var failureRate = 0.0
        /// `PAYMENT_SIM_DECLINE_RATE`: share of charges declined. Default 0.
        package var declineRate = 0.0
        /// `PAYMENT_SIM_LOST_RESPONSE_RATE`: share of charges made whose answer is lost. Default 0.
        package var lostResponseRate = 0.0
        /// `PAYMENT_SIM_HANG_RATE` (1 with `PAYMENT_SIM_HANG=true`): share of calls never answered. Default 0.
        package var hangRate = 0.0
        /// `PAYMENT_SIM_SLOW_MS`: how long a `tok_slow` charge is held before it is made.
        /// Default 1 s; a test that must cancel the order meanwhile whatever the machine's
        /// speed holds it for many seconds.
        package var slowCharge: Duration = .seconds(1)
        /// `PAYMENT_SIM_TEST_MODE`: whether the test tokens pick outcomes. Default false.
        package var testMode = false

        /// The defaults: a prompt provider that charges everything.
        package init() {}
    }

    private let ledger: any SimulatedProviderLedger
    private let configuration: Configuration
    private let clock: C
    private let random: @Sendable () -> Double
    private let logger: Logger?

    /// Creates the simulator over `ledger`; `random` draws the configured rates (injectable
    /// for tests), `clock` times the latency and the hangs.
    package init(
        ledger: any SimulatedProviderLedger, configuration: Configuration = .init(), clock: C,
        random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }, logger: Logger? = nil
    ) {
        self.ledger = ledger
        self.configuration = configuration
        self.clock = clock
        self.random = random
        self.logger = logger
    }

    package func charge(_ request: ChargeRequest) async throws -> ChargeOutcome {
        let token = configuration.testMode ? request.token : nil
        try await network(token: token)
        // The provider's side of the charge: it goes on if the caller stops waiting.
        let made = Task {
            [ledger, configuration, clock, random, logger] () async throws -> (outcome: ChargeOutcome, fresh: Bool) in
            if let earlier = try await ledger.charge(key: request.key) { return (earlier, false) }
            if token == "tok_slow" { try await clock.sleep(for: configuration.slowCharge) }
            let outcome =
                if token == "tok_decline" || random() < configuration.declineRate {
                    try await ledger.decline(key: request.key, amount: request.amount, reason: "insufficient_funds")
                } else {
                    try await ledger.capture(key: request.key, amount: request.amount, method: request.method)
                }
            if outcome == .cancelled {
                // The charge was still on its way when the key was cancelled: nothing taken.
                logger?.info(
                    "simulated provider: a charge reached a cancelled key; nothing taken",
                    metadata: ["payment.id": "\(request.key)"])
            }
            return (outcome, true)
        }
        // The caller's wait ends when it is cancelled (its timeout); the charge does not.
        let (outcome, fresh) = try await Self.value(of: made)
        // A repeat answers what the first charge did, over a connection that holds.
        if fresh, case .captured = outcome, token == "tok_lost_response" || random() < configuration.lostResponseRate {
            throw PaymentGatewayError(.outcomeUnknown, "the connection broke after the charge was sent")
        }
        return outcome
    }

    package func charge(key: String) async throws -> ChargeOutcome? {
        try await network(token: nil)
        return try await ledger.charge(key: key)
    }

    package func cancel(key: String) async throws -> ChargeOutcome {
        try await network(token: nil)
        return try await ledger.cancel(key: key)
    }

    package func refund(reference: String, amount: Money, key: String) async throws {
        try await network(token: nil)
        try await ledger.refund(reference: reference, amount: amount)
    }

    /// `task`'s value, or `CancellationError` as soon as the caller is cancelled, leaving the
    /// task running: awaiting `task.value` alone would hold a cancelled caller (and the task
    /// group of its timeout) until the task ended.
    private static func value<T: Sendable>(of task: Task<T, any Error>) async throws -> T {
        let waiter = Locked<(continuation: CheckedContinuation<T, any Error>?, cancelled: Bool)>((nil, false))
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
                let cancelled = waiter.withLock { state -> Bool in
                    if !state.cancelled { state.continuation = continuation }
                    return state.cancelled
                }
                if cancelled {
                    continuation.resume(throwing: CancellationError())
                    return
                }
                Task {
                    let result = await task.result
                    waiter.withLock { state in
                        defer { state.continuation = nil }
                        return state.continuation
                    }?.resume(with: result)
                }
            }
        } onCancel: {
            waiter.withLock { state in
                state.cancelled = true
                defer { state.continuation = nil }
                return state.continuation
            }?.resume(throwing: CancellationError())
        }
    }

    /// The trip to the provider: latency, and the failures that happen before it acts.
    private func network(token: String?) async throws {
        try await clock.sleep(for: configuration.latency)
        if token == "tok_hang" || random() < configuration.hangRate {
            // Answers never; the caller's timeout cancels the wait.
            try await clock.sleep(for: .seconds(86_400))
        }
        if token == "tok_fail" || random() < configuration.failureRate {
            throw PaymentGatewayError(.unavailable, "the provider answered 503; nothing was charged")
        }
    }
}

/// The simulated provider's own books: every charge by its idempotency key.
package protocol SimulatedProviderLedger: Sendable {
    /// The outcome recorded under `key`, if any.
    func charge(key: String) async throws -> ChargeOutcome?
    /// Records a capture under `key` (or answers what `key` already recorded).
    func capture(key: String, amount: Money, method: String) async throws -> ChargeOutcome
    /// Records a decline under `key` (or answers what `key` already recorded).
    func decline(key: String, amount: Money, reason: String) async throws -> ChargeOutcome
    /// Records `key` cancelled unless it recorded a charge (answering that charge): afterwards
    /// a capture or decline under `key` answers ``ChargeOutcome/cancelled`` and takes nothing.
    func cancel(key: String) async throws -> ChargeOutcome
    /// Marks the capture `reference` refunded; refunding it again changes nothing. Throws
    /// ``PaymentGatewayError/Code/rejected`` for an unknown charge or another amount.
    func refund(reference: String, amount: Money) async throws
    /// Money captured and not refunded, and money refunded, over every charge.
    func totals() async throws -> (captured: Money, refunded: Money)
}
