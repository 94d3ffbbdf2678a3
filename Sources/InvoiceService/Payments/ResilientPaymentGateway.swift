package import Contracts
package import CoreMetrics
package import Logging
package import ServiceKit

/// A provider wrapped in what a call over the network to someone else's system needs: a
/// timeout per attempt, retries with exponential backoff for transient failures only (never
/// for a decline), and a ``CircuitBreaker`` that fails fast while the provider keeps failing.
///
/// Retrying is safe because every operation carries its idempotency key: a charge that timed
/// out and is sent again is charged once.
package struct ResilientPaymentGateway<C: Clock>: PaymentGateway where C.Duration == Duration {
    /// Timeout, retries and breaker.
    package struct Configuration: Sendable {
        /// `PAYMENT_GATEWAY_TIMEOUT_MS`: one attempt's limit. Default 2 s.
        package var timeout: Duration = .seconds(2)
        /// `PAYMENT_GATEWAY_ATTEMPTS`: attempts per call, the first included. Default 3.
        package var attempts = 3
        /// The wait before the second attempt; doubles each time, with up to 50% jitter
        /// added. Default 100 ms.
        package var initialBackoff: Duration = .milliseconds(100)
        /// `PAYMENT_CIRCUIT_FAILURES`, `PAYMENT_CIRCUIT_OPEN_SECONDS`: the breaker.
        package var breaker = CircuitBreaker<C>.Configuration()

        /// The defaults.
        package init() {}

        /// The longest a call can take: every attempt timing out, with every backoff.
        package var longestCall: Duration {
            var total = timeout * attempts
            for attempt in 1..<max(attempts, 1) { total += initialBackoff * (1 << (attempt - 1)) * 3 / 2 }
            return total
        }
    }

    private let base: any PaymentGateway
    private let configuration: Configuration
    private let clock: C
    /// The breaker, shared by every call: its state is the provider's.
    package let breaker: CircuitBreaker<C>
    private let logger: Logger
    private let metrics: any MetricsFactory

    /// Wraps `base`; `clock` times the attempts and backoffs (a test's manual clock).
    package init(
        _ base: any PaymentGateway, configuration: Configuration = .init(), clock: C, logger: Logger,
        metrics: any MetricsFactory = MetricsSystem.factory
    ) {
        self.base = base
        self.configuration = configuration
        self.clock = clock
        self.logger = logger
        self.metrics = metrics
        let gauge = Gauge(label: "mercato_payment_circuit_state", dimensions: [], factory: metrics)
        gauge.record(0)
        self.breaker = CircuitBreaker(configuration: configuration.breaker, clock: clock) { [logger] state in
            // 0 closed, 1 half-open, 2 open: an alert fires on > 0 for long.
            gauge.record(state == .closed ? 0 : state == .halfOpen ? 1 : 2)
            logger.warning("payment provider circuit changed", metadata: ["payment.circuit": "\(state.rawValue)"])
        }
    }

    package func charge(_ request: ChargeRequest) async throws -> ChargeOutcome {
        try await call("charge") { try await base.charge(request) }
    }

    package func charge(key: String) async throws -> ChargeOutcome? {
        try await call("lookup") { try await base.charge(key: key) }
    }

    package func cancel(key: String) async throws -> ChargeOutcome {
        try await call("cancel") { try await base.cancel(key: key) }
    }

    package func refund(reference: String, amount: Money, key: String) async throws {
        try await call("refund") { try await base.refund(reference: reference, amount: amount, key: key) }
    }

    /// Runs `operation` with the timeout, the retries and the breaker. Once an attempt's
    /// outcome is unknown, the call's final error says so, even if later attempts were
    /// refused outright: the first one may have charged.
    private func call<T: Sendable>(_ operation: String, _ body: @escaping @Sendable () async throws -> T) async throws
        -> T
    {
        var unknown = false
        var lastError = PaymentGatewayError(.unavailable, "no attempt was made")
        for attempt in 1...max(configuration.attempts, 1) {
            if attempt > 1 {
                let backoff = configuration.initialBackoff * (1 << (attempt - 2))
                try await clock.sleep(for: backoff + backoff * Double.random(in: 0..<0.5))
            }
            guard breaker.permit() else {
                lastError = PaymentGatewayError(.circuitOpen, "the payment provider's circuit is open")
                count(operation, "circuit_open")
                break
            }
            do {
                let result = try await withTimeout(body)
                breaker.record(success: true)
                count(operation, "ok")
                return result
            } catch let error as PaymentGatewayError {
                breaker.record(success: !error.isTransient)
                count(operation, error.code.description)
                if error.code == .outcomeUnknown { unknown = true }
                lastError = error
                guard error.isTransient else { break }
                logger.info(
                    "payment provider call failed",
                    metadata: [
                        "payment.operation": "\(operation)", "payment.attempt": "\(attempt)",
                        "error.message": "\(error)",
                    ])
            } catch {
                // Anything else (an adapter's own error, cancellation) still settles the
                // permit, or a half-open breaker would wait for its probe forever; what the
                // provider did is not known.
                breaker.record(success: false)
                count(operation, "error")
                if error is CancellationError { throw error }
                unknown = true
                lastError = PaymentGatewayError(.outcomeUnknown, "the provider call failed: \(error)")
            }
        }
        if unknown, lastError.code != .outcomeUnknown {
            throw PaymentGatewayError(
                .outcomeUnknown, "an earlier attempt's outcome is unknown; then: \(lastError.message)")
        }
        throw lastError
    }

    /// `body`, or ``PaymentGatewayError/Code/outcomeUnknown`` once `configuration.timeout`
    /// has passed (the call is cancelled).
    private func withTimeout<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let timeout = configuration.timeout
        let clock = self.clock
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await clock.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let result = first else {
                throw PaymentGatewayError(.outcomeUnknown, "no answer within \(timeout)")
            }
            return result
        }
    }

    private func count(_ operation: String, _ outcome: String) {
        Counter(
            label: "mercato_payment_gateway_calls_total", dimensions: [("operation", operation), ("outcome", outcome)],
            factory: metrics
        )
        .increment()
    }
}
