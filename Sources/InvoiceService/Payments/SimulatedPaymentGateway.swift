public import Contracts
import Foundation

/// A stand-in payment provider, so every path of a payment can be exercised without a real
/// one: configurable latency, transient failures, declines, answers lost after charging, and
/// a hang mode. It keeps its own books in a ``SimulatedProviderLedger`` (in production a
/// table of its own, written in transactions of its own, as separate from the invoices as a
/// real provider's), which is what audits compare the invoices with.
///
/// Test tokens, as real providers' sandboxes have, pick an outcome for one charge:
/// `tok_decline` (declined, `insufficient_funds`), `tok_fail` (transient failure, nothing
/// charged), `tok_hang` (never answers), `tok_lost_response` (charges, then the connection
/// breaks), `tok_slow` (charges after ``Configuration/slowCharge``, a second by default: room
/// for a cancellation to race it). Any other token, or none, charges subject to the
/// configured rates.
public struct SimulatedPaymentGateway<C: Clock>: PaymentGateway where C.Duration == Duration {
    /// How the simulator behaves, from `PAYMENT_SIM_*`.
    public struct Configuration: Sendable {
        /// `PAYMENT_SIM_LATENCY_MS`: how long each call takes. Default 20 ms.
        public var latency: Duration = .milliseconds(20)
        /// `PAYMENT_SIM_FAILURE_RATE`: share of calls that fail transiently, charging nothing. Default 0.
        public var failureRate = 0.0
        /// `PAYMENT_SIM_DECLINE_RATE`: share of charges declined. Default 0.
        public var declineRate = 0.0
        /// `PAYMENT_SIM_LOST_RESPONSE_RATE`: share of charges made whose answer is lost. Default 0.
        public var lostResponseRate = 0.0
        /// `PAYMENT_SIM_HANG_RATE` (1 with `PAYMENT_SIM_HANG=true`): share of calls never answered. Default 0.
        public var hangRate = 0.0
        /// `PAYMENT_SIM_SLOW_MS`: how long a `tok_slow` charge is held before it is made.
        /// Default 1 s; a test that must cancel the order meanwhile whatever the machine's
        /// speed holds it for many seconds.
        public var slowCharge: Duration = .seconds(1)

        /// The defaults: a prompt provider that charges everything.
        public init() {}
    }

    private let ledger: any SimulatedProviderLedger
    private let configuration: Configuration
    private let clock: C
    private let random: @Sendable () -> Double

    /// Creates the simulator over `ledger`; `random` draws the configured rates (injectable
    /// for tests), `clock` times the latency and the hangs.
    public init(
        ledger: any SimulatedProviderLedger, configuration: Configuration = .init(), clock: C,
        random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }
    ) {
        self.ledger = ledger
        self.configuration = configuration
        self.clock = clock
        self.random = random
    }

    public func charge(_ request: ChargeRequest) async throws -> ChargeOutcome {
        try await network(token: request.token)
        if let earlier = try await ledger.charge(key: request.key) { return earlier }
        if request.token == "tok_slow" { try await clock.sleep(for: configuration.slowCharge) }
        let outcome: ChargeOutcome
        if request.token == "tok_decline" || random() < configuration.declineRate {
            outcome = try await ledger.decline(key: request.key, amount: request.amount, reason: "insufficient_funds")
        } else {
            outcome = try await ledger.capture(key: request.key, amount: request.amount, method: request.method)
        }
        if case .captured = outcome, request.token == "tok_lost_response" || random() < configuration.lostResponseRate {
            throw PaymentGatewayError(.outcomeUnknown, "the connection broke after the charge was sent")
        }
        return outcome
    }

    public func charge(key: String) async throws -> ChargeOutcome? {
        try await network(token: nil)
        return try await ledger.charge(key: key)
    }

    public func refund(reference: String, amount: Money, key: String) async throws {
        try await network(token: nil)
        try await ledger.refund(reference: reference, amount: amount)
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
public protocol SimulatedProviderLedger: Sendable {
    /// The outcome recorded under `key`, if any.
    func charge(key: String) async throws -> ChargeOutcome?
    /// Records a capture under `key` (or answers what `key` already recorded).
    func capture(key: String, amount: Money, method: String) async throws -> ChargeOutcome
    /// Records a decline under `key` (or answers what `key` already recorded).
    func decline(key: String, amount: Money, reason: String) async throws -> ChargeOutcome
    /// Marks the capture `reference` refunded; refunding it again changes nothing. Throws
    /// ``PaymentGatewayError/Code/rejected`` for an unknown charge or another amount.
    func refund(reference: String, amount: Money) async throws
    /// Money captured and not refunded, and money refunded, over every charge.
    func totals() async throws -> (captured: Money, refunded: Money)
}
