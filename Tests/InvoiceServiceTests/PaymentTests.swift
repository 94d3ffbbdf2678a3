import ContractTesting
import Contracts
import Foundation
import Locking
import Logging
import MercatoTesting
import ServiceKit
import ServiceTesting
import Testing

@testable import InvoiceService

/// The invoice's and the payment's state machines over every (state, event) pair, the
/// circuit breaker and the resilient gateway on a manual clock, and the payment processor's
/// races on the in-memory storage.
@Suite(.timeLimit(.minutes(1)))
struct PaymentTests {
    @Test(arguments: InvoiceLifecycle.Status.allCases)
    func invoiceLifecycle(_ status: InvoiceLifecycle.Status) {
        let expected: [InvoiceLifecycle.Event: InvoiceLifecycle.Transition] =
            switch status {
            case .issued:
                [
                    .paymentCaptured: .init(next: .paid), .orderCancelled: .init(next: .void),
                    .dueDatePassed: .init(next: .overdue),
                ]
            case .paid:
                [
                    .paymentCaptured: .init(next: nil, refund: .invoicePaidByAnother),
                    .orderCancelled: .init(next: .void, refund: .invoiceVoid),
                    .dueDatePassed: .unchanged,
                ]
            case .overdue:
                [
                    .paymentCaptured: .init(next: nil, refund: .invoiceOverdue), .orderCancelled: .init(next: .void),
                    .dueDatePassed: .unchanged,
                ]
            case .void:
                [
                    .paymentCaptured: .init(next: nil, refund: .invoiceVoid), .orderCancelled: .unchanged,
                    .dueDatePassed: .unchanged,
                ]
            }
        for event in InvoiceLifecycle.Event.allCases {
            #expect(InvoiceLifecycle.transition(from: status, on: event) == expected[event], "\(status) on \(event)")
        }
    }

    @Test func aVoidInvoiceNeverBecomesPaidAndPaidNeverReturnsToIssued() {
        for status in InvoiceLifecycle.Status.allCases {
            for event in InvoiceLifecycle.Event.allCases {
                let next = InvoiceLifecycle.transition(from: status, on: event).next
                #expect(status != .void || next == nil)
                #expect(next != .issued)
                #expect(status != .paid || next != .overdue, "an invoice paid is never closed for lateness")
            }
        }
    }

    @Test(arguments: PaymentLifecycle.Status.allCases)
    func paymentLifecycle(_ status: PaymentLifecycle.Status) {
        let expected: [PaymentLifecycle.Event: PaymentLifecycle.Status] =
            switch status {
            case .pending: [.captured: .captured, .declined: .declined, .failed: .failed, .cancelled: .cancelled]
            case .failed: [.retried: .pending, .captured: .captured, .cancelled: .cancelled]
            case .cancelled: [.captured: .captured]
            case .captured: [.refunded: .refunded]
            case .declined, .refunded: [:]
            }
        for event in PaymentLifecycle.Event.allCases {
            #expect(PaymentLifecycle.transition(from: status, on: event) == expected[event], "\(status) on \(event)")
        }
        #expect(PaymentLifecycle.isFinal(status) == (status == .declined || status == .refunded))
    }

    @Test func theBreakerOpensAfterConsecutiveFailuresAndLetsOneProbeThrough() {
        let clock = ManualClock()
        var configuration = CircuitBreaker<ManualClock>.Configuration()
        configuration.failureThreshold = 3
        configuration.openDuration = .seconds(10)
        let changes = Locked<[CircuitBreaker<ManualClock>.State]>([])
        let breaker = CircuitBreaker(configuration: configuration, clock: clock) { state in
            changes.withLock { $0.append(state) }
        }
        for _ in 0..<2 {
            #expect(breaker.permit())
            breaker.record(success: false)
        }
        #expect(breaker.permit())
        breaker.record(success: true)  // a success resets the count
        for _ in 0..<3 {
            #expect(breaker.permit())
            breaker.record(success: false)
        }
        #expect(breaker.state == .open && !breaker.permit())
        clock.advance(by: .seconds(10))
        #expect(breaker.state == .halfOpen)
        #expect(breaker.permit(), "the probe")
        #expect(!breaker.permit(), "only one probe at a time")
        breaker.record(success: false)
        #expect(breaker.state == .open)
        clock.advance(by: .seconds(10))
        #expect(breaker.permit())
        breaker.record(success: true)
        #expect(breaker.state == .closed && breaker.permit())
        #expect(changes.withLock { $0 } == [.open, .halfOpen, .open, .halfOpen, .closed])
    }

    /// A provider that answers from a script, counting calls.
    final class ScriptedProvider: PaymentGateway {
        let script: Locked<[Result<ChargeOutcome, PaymentGatewayError>]>
        let calls = Locked(0)
        let hangs: Bool
        private let callEvents = Locked<[Int: OneShot]>([:])

        init(_ script: [Result<ChargeOutcome, PaymentGatewayError>], hangs: Bool = false) {
            self.script = Locked(script)
            self.hangs = hangs
        }

        /// Fires once the provider has been called `count` times.
        func called(_ count: Int) -> OneShot {
            callEvents.withLock { events in
                if let event = events[count] { return event }
                let event = OneShot()
                events[count] = event
                return event
            }
        }

        func charge(_ request: ChargeRequest) async throws -> ChargeOutcome {
            let count = calls.withLock {
                $0 += 1
                return $0
            }
            called(count).fire()
            if hangs { try await Task.sleep(for: .seconds(3600)) }
            let next = script.withLock { $0.isEmpty ? .success(.captured(reference: "ch_default")) : $0.removeFirst() }
            return try next.get()
        }

        func charge(key: String) async throws -> ChargeOutcome? { nil }
        func cancel(key: String) async throws -> ChargeOutcome { .cancelled }
        func refund(reference: String, amount: Money, key: String) async throws {}
    }

    static let request = ChargeRequest(
        key: "k", amount: Money("1.00")!, method: "card", token: nil, description: "test")

    /// A gateway over `provider` on `clock`. Its timeout is an hour unless a test is about
    /// timeouts, and ``driving(_:_:)`` never moves the clock that far.
    func gateway(
        _ provider: ScriptedProvider, clock: ManualClock, attempts: Int = 3, threshold: Int = 5,
        timeout: Duration = .seconds(3600)
    ) -> ResilientPaymentGateway<ManualClock> {
        var configuration = ResilientPaymentGateway<ManualClock>.Configuration()
        configuration.attempts = attempts
        configuration.timeout = timeout
        configuration.initialBackoff = .milliseconds(100)
        configuration.breaker.failureThreshold = threshold
        configuration.breaker.openDuration = .seconds(30)
        return ResilientPaymentGateway(
            provider, configuration: configuration, clock: clock, logger: Logger(label: "test"))
    }

    /// Runs `body` while waiting out every backoff it sleeps on `clock`: a pending sleep that
    /// ends within a second (a backoff is at most 300 ms here) has the clock moved to its end.
    /// An attempt's timeout (an hour) is never reached, however late the body's tasks run:
    /// the clock moves only while a backoff sleeps, and no attempt is running then.
    func driving<T: Sendable>(_ clock: ManualClock, _ body: @escaping @Sendable () async throws -> T) async throws -> T
    {
        let task = Task { try await body() }
        let driver = Task {
            while !Task.isCancelled {
                if let next = clock.nextDeadline, clock.now.duration(to: next) <= .seconds(1) {
                    clock.advance(by: max(clock.now.duration(to: next), .zero))
                }
                try await Task.sleep(for: .milliseconds(1))
            }
        }
        defer { driver.cancel() }
        return try await withDeadline(.seconds(60), "the gateway call to end") { try await task.value }
    }

    @Test func transientFailuresAreRetriedWithTheSameKeyAndDeclinesAreNot() async throws {
        let clock = ManualClock()
        let flaky = ScriptedProvider([
            .failure(.init(.unavailable, "503")), .failure(.init(.outcomeUnknown, "reset")),
            .success(.captured(reference: "ch_1")),
        ])
        let outcome = try await driving(clock) { [self] in try await gateway(flaky, clock: clock).charge(Self.request) }
        #expect(outcome == .captured(reference: "ch_1") && flaky.calls.withLock { $0 } == 3)

        let declining = ScriptedProvider([.success(.declined(reason: "insufficient_funds"))])
        let declined = try await driving(clock) { [self] in
            try await gateway(declining, clock: clock).charge(Self.request)
        }
        #expect(declined == .declined(reason: "insufficient_funds") && declining.calls.withLock { $0 } == 1)

        let rejecting = ScriptedProvider([.failure(.init(.rejected, "bad request"))])
        await #expect(throws: PaymentGatewayError(.rejected, "bad request")) {
            try await driving(clock) { [self] in try await gateway(rejecting, clock: clock).charge(Self.request) }
        }
        #expect(rejecting.calls.withLock { $0 } == 1)
    }

    @Test func aHangingProviderTimesOutAsOutcomeUnknown() async throws {
        let clock = ManualClock()
        let hanging = ScriptedProvider([], hangs: true)
        let timeout = Duration.seconds(2)
        let gateway = gateway(hanging, clock: clock, attempts: 2, timeout: timeout)
        let call = Task { try await gateway.charge(Self.request) }
        for attempt in 1...2 {
            // The timeout passes only once the provider has the call and the attempt's timer
            // sleeps (the provider hangs on the real clock: the timer is the only sleeper).
            // Moving the clock sooner could time the attempt out before it reached the provider.
            try await hanging.called(attempt).wait("the provider's call \(attempt)", timeout: .seconds(60))
            try await clock.waitForSleepers(1, timeout: .seconds(60))
            clock.advance(by: timeout)
            if attempt == 1 {
                // The timer is gone; the next sleeper is the backoff (at most 150 ms).
                try await clock.waitForSleepers(1, timeout: .seconds(60))
                clock.advance(by: .seconds(1))
            }
        }
        do {
            _ = try await withDeadline(.seconds(60), "the call to give up") { try await call.value }
            Issue.record("a hanging provider answered")
        } catch let error as PaymentGatewayError {
            #expect(error.code == .outcomeUnknown && !error.nothingCharged)
        }
        #expect(hanging.calls.withLock { $0 } == 2)
    }

    @Test func anOpenCircuitFailsFastWithoutCallingAndAnUnknownOutcomeIsNotForgotten() async throws {
        let clock = ManualClock()
        let down = ScriptedProvider(Array(repeating: .failure(.init(.unavailable, "503")), count: 4))
        let gateway = gateway(down, clock: clock, attempts: 2, threshold: 4)
        for _ in 0..<2 {
            await #expect(throws: PaymentGatewayError.self) {
                try await driving(clock) { try await gateway.charge(Self.request) }
            }
        }
        #expect(gateway.breaker.state == .open && down.calls.withLock { $0 } == 4)
        do {
            _ = try await gateway.charge(Self.request)
            Issue.record("an open circuit called the provider")
        } catch let error as PaymentGatewayError {
            #expect(error.code == .circuitOpen && error.nothingCharged && down.calls.withLock { $0 } == 4)
        }
        clock.advance(by: .seconds(30))
        #expect(
            try await gateway.charge(Self.request) == .captured(reference: "ch_default"), "the half-open probe succeeds"
        )
        #expect(gateway.breaker.state == .closed)

        // An attempt whose outcome is unknown, then an open circuit: the call may have charged.
        let lost = ScriptedProvider(
            [.failure(.init(.outcomeUnknown, "reset"))]
                + Array(repeating: .failure(.init(.unavailable, "503")), count: 9))
        let fragile = self.gateway(lost, clock: clock, attempts: 3, threshold: 2)
        do {
            _ = try await driving(clock) { try await fragile.charge(Self.request) }
        } catch let error as PaymentGatewayError {
            #expect(error.code == .outcomeUnknown)
        }
    }

    @Test func anUnexpectedErrorStillSettlesTheProbe() async throws {
        struct AdapterBroke: Error {}
        final class Broken: PaymentGateway {
            let calls = Locked(0)
            func charge(_ request: ChargeRequest) async throws -> ChargeOutcome {
                if calls.withLock({
                    $0 += 1
                    return $0
                }) == 1 {
                    throw AdapterBroke()
                }
                return .captured(reference: "ch_after")
            }
            func charge(key: String) async throws -> ChargeOutcome? { nil }
            func cancel(key: String) async throws -> ChargeOutcome { .cancelled }
            func refund(reference: String, amount: Money, key: String) async throws {}
        }
        let clock = ManualClock()
        var configuration = ResilientPaymentGateway<ManualClock>.Configuration()
        configuration.attempts = 1
        configuration.breaker.failureThreshold = 1
        let gateway = ResilientPaymentGateway(
            Broken(), configuration: configuration, clock: clock, logger: Logger(label: "test"))
        do {
            _ = try await gateway.charge(Self.request)
            Issue.record("the broken adapter answered")
        } catch let error as PaymentGatewayError {
            #expect(error.code == .outcomeUnknown, "what the provider did is not known")
        }
        #expect(gateway.breaker.state == .open)
        clock.advance(by: configuration.breaker.openDuration)
        #expect(try await gateway.charge(Self.request) == .captured(reference: "ch_after"), "the probe goes through")
        #expect(gateway.breaker.state == .closed)
    }

    @Test(arguments: SimulatedProviderLedgerContract.checks)
    func memoryLedger(_ check: ContractCheck<any SimulatedProviderLedger>) async throws {
        try await check.run(MemorySimulatedProviderLedger())
    }

    @Test func theSimulatorHonoursItsTestTokensAndNeverChargesAKeyTwice() async throws {
        let ledger = MemorySimulatedProviderLedger()
        let simulator = SimulatedPaymentGateway(
            ledger: ledger, configuration: Fixture.instant, clock: ContinuousClock(), random: { 0.5 })
        func request(_ key: String, _ token: String?) -> ChargeRequest {
            ChargeRequest(key: key, amount: Money("2.00")!, method: "card", token: token, description: "test")
        }
        #expect(try await simulator.charge(request("a", "tok_decline")) == .declined(reason: "insufficient_funds"))
        await #expect(throws: PaymentGatewayError.self) { try await simulator.charge(request("b", "tok_fail")) }
        #expect(try await simulator.charge(key: "b") == nil, "a failure charges nothing")
        await #expect(throws: PaymentGatewayError.self) {
            try await simulator.charge(request("c", "tok_lost_response"))
        }
        let lost = try await simulator.charge(key: "c")
        guard case .captured = lost else {
            Issue.record("a lost response still charged: \(String(describing: lost))")
            return
        }
        #expect(try await simulator.charge(request("c", nil)) == lost, "the retry answers the first charge")
        #expect(try await ledger.totals().captured == Money("2.00"))
    }

    // MARK: - The processor

    struct Fixture {
        let storage = MemoryInvoiceStorage()
        let ledger = MemorySimulatedProviderLedger()
        let processor: PaymentProcessor
        let invoice: Invoice
        let order: OrderCreated

        init(
            provider: (any SimulatedProviderLedger) -> any PaymentGateway = {
                SimulatedPaymentGateway(ledger: $0, configuration: Fixture.instant, clock: ContinuousClock())
            }
        ) async throws {
            processor = PaymentProcessor(
                store: storage, invoices: storage, gateway: provider(ledger), staleAfter: .seconds(30),
                logger: Logger(label: "test"))
            let items = [OrderLine(productName: "Tea", quantity: 2, unitPrice: Money("3.00")!)]
            order = OrderCreated(
                orderID: UUID(), customerID: UUID(), items: items, total: Money("6.00")!, createdAt: Date())
            let event = try IncomingEvent(CloudEvent(source: "/tests", data: order))
            try await storage.invoice(
                [OrderToInvoice(event: event, order: order, traceparent: nil)],
                terms: .init(taxRate: 0, paymentDue: .seconds(60)), at: Date())
            invoice = try await storage.invoice(orderID: order.orderID)!
        }

        /// A prompt simulator in test mode (its tokens pick outcomes).
        static var instant: SimulatedPaymentGateway<ContinuousClock>.Configuration {
            var configuration = SimulatedPaymentGateway<ContinuousClock>.Configuration()
            configuration.latency = .zero
            configuration.testMode = true
            return configuration
        }

        func payment(key: String = UUID().uuidString, token: String? = nil) -> NewPayment {
            NewPayment(
                invoiceID: invoice.id, idempotencyKey: key, request: key + (token ?? ""), amount: invoice.total,
                method: "card", token: token, traceparent: nil)
        }

        func cancel() async throws -> Int {
            let cancelled = OrderCancelled(
                orderID: order.orderID, customerID: order.customerID, reason: .requested, cancelledAt: Date())
            return try await storage.cancelOrders([
                CancelledOrder(
                    event: try IncomingEvent(CloudEvent(source: "/tests", data: cancelled)), cancellation: cancelled,
                    traceparent: nil)
            ])
        }
    }

    @Test func aPaymentPaysOnceAndItsRetryChargesNothingMore() async throws {
        let fixture = try await Fixture()
        let request = fixture.payment()
        let (payment, invoice) = try await fixture.processor.pay(request)
        #expect(payment.status == .captured && invoice.status == .paid)
        let (again, _) = try await fixture.processor.pay(request)
        #expect(again.id == payment.id && again.status == .captured)
        #expect(try await fixture.ledger.totals().captured == invoice.total)
        await #expect(throws: InvoiceStoreError.self) { try await fixture.processor.pay(fixture.payment()) }
    }

    @Test func aLostAnswerIsLearnedByTheRetryWithoutASecondCharge() async throws {
        // A provider that loses its first answer and is not retried within the call.
        let fixture = try await Fixture { ledger in
            var configuration = ResilientPaymentGateway<ContinuousClock>.Configuration()
            configuration.attempts = 1
            return ResilientPaymentGateway(
                SimulatedPaymentGateway(ledger: ledger, configuration: Fixture.instant, clock: ContinuousClock()),
                configuration: configuration,
                clock: ContinuousClock(), logger: Logger(label: "test"))
        }
        let request = fixture.payment(token: "tok_lost_response")
        let (pending, _) = try await fixture.processor.pay(request)
        #expect(pending.status == .pending)
        let (payment, invoice) = try await fixture.processor.pay(request)
        #expect(payment.status == .captured && invoice.status == .paid)
        #expect(try await fixture.ledger.totals().captured == fixture.invoice.total)
    }

    @Test func aPaymentCapturedAfterTheCancellationIsRefunded() async throws {
        let fixture = try await Fixture()
        let start = try await fixture.storage.startPayment(fixture.payment(), at: Date())
        #expect(try await fixture.cancel() == 0)
        // The provider captured meanwhile: the reconciler's lookup finds it.
        _ = try await fixture.ledger.capture(
            key: start.payment.providerKey, amount: start.payment.amount, method: "card")
        #expect(try await fixture.processor.reconcile(at: Date().addingTimeInterval(60)) >= 1)
        #expect(try await fixture.processor.reconcile(at: Date().addingTimeInterval(60)) >= 0)
        #expect(try await fixture.storage.payments(invoiceID: fixture.invoice.id).map(\.status) == [.refunded])
        #expect(try await fixture.ledger.totals() == (captured: .zero, refunded: fixture.invoice.total))
        #expect(try await fixture.storage.invoice(id: fixture.invoice.id)?.status == .void)
    }

    @Test func aPaidInvoiceWhoseOrderIsCancelledIsRefundedOnce() async throws {
        let fixture = try await Fixture()
        _ = try await fixture.processor.pay(fixture.payment())
        #expect(try await fixture.cancel() == 1)
        #expect(try await fixture.processor.reconcile() == 1)
        #expect(try await fixture.processor.reconcile() == 0)
        #expect(try await fixture.ledger.totals() == (captured: .zero, refunded: fixture.invoice.total))
        #expect(fixture.storage.outbox.pending.filter { $0.eventType == "invoice.refunded" }.count == 1)
    }

    @Test func anAbandonedPendingPaymentIsCancelledAtTheProviderAndItsKeyNeverCharges() async throws {
        let fixture = try await Fixture()
        let start = try await fixture.storage.startPayment(fixture.payment(), at: Date())
        #expect(try await fixture.processor.reconcile(at: Date()) == 0, "not stale yet")
        #expect(try await fixture.processor.reconcile(at: Date().addingTimeInterval(60)) == 1)
        #expect(try await fixture.storage.payments(invoiceID: fixture.invoice.id).map(\.status) == [.cancelled])
        #expect(try await fixture.ledger.charge(key: start.payment.providerKey) == .cancelled)
        // The same key answers what it came to, and charges nothing; a new key pays.
        let (again, unpaid) = try await fixture.processor.pay(fixture.payment(key: start.payment.idempotencyKey))
        #expect(again.id == start.payment.id && again.status == .cancelled && unpaid.status == .issued)
        let (payment, invoice) = try await fixture.processor.pay(fixture.payment())
        #expect(payment.status == .captured && invoice.status == .paid)
        #expect(try await fixture.ledger.totals().captured == fixture.invoice.total)
    }

    // MARK: - Money that must balance (issue 23)

    /// The attack: a payment's attempts time out (pending), the client retries under the same
    /// key, and while that charge is still at the provider the reconciler finds the payment
    /// stale. It must not settle it `failed` while an attempt may still land: the provider's
    /// late capture would be money taken with no payment to show for it, and the customer's
    /// next payment (a new key) a second charge.
    @Test func aChargeStillInFlightIsNeverSettledFailedAndItsLateCaptureIsNeverKeptTwice() async throws {
        let fixture = try await Fixture()
        let start = try await fixture.storage.startPayment(fixture.payment(), at: Date().addingTimeInterval(-120))
        _ = try await fixture.processor.reconcile(at: Date().addingTimeInterval(60))
        // The retried charge lands at the provider after the reconciler decided.
        _ = try await fixture.ledger.capture(
            key: start.payment.providerKey, amount: start.payment.amount, method: "card")
        // The customer pays again under a new key, as a checkout page does.
        _ = try? await fixture.processor.pay(fixture.payment())
        for minutes in 2...4 {
            _ = try await fixture.processor.reconcile(at: Date().addingTimeInterval(Double(minutes) * 60))
        }
        let payments = try await fixture.storage.payments(invoiceID: fixture.invoice.id)
        let totals = try await fixture.ledger.totals()
        #expect(
            totals.captured == fixture.invoice.total,
            "captured at the provider: \(totals); payments: \(payments.map(\.status))")
        #expect(payments.filter { $0.status == .captured }.count == 1, "\(payments.map(\.status))")
        #expect(try await fixture.storage.invoice(id: fixture.invoice.id)?.status == .paid)
    }

    /// A capture that arrives for a payment that cannot pay its invoice (another payment paid
    /// it meanwhile) is given back, never kept: the provider's books and the invoice agree.
    @Test func aCaptureForAnInvoicePaidByAnotherPaymentIsRefunded() async throws {
        let fixture = try await Fixture()
        let first = try await fixture.storage.startPayment(fixture.payment(), at: Date())
        // The provider said "nothing charged" for the first...
        _ = try await fixture.storage.settlePayment(
            first.payment.id, outcome: .failed(reason: "payment_provider_error"), at: Date())
        let (second, paid) = try await fixture.processor.pay(fixture.payment())
        #expect(second.status == .captured && paid.status == .paid)
        // ...and captured it after all (a provider's late webhook).
        guard
            case .captured(let reference) = try await fixture.ledger.capture(
                key: first.payment.providerKey, amount: first.payment.amount, method: "card")
        else {
            Issue.record("not captured")
            return
        }
        _ = try await fixture.storage.settlePayment(
            first.payment.id, outcome: .captured(reference: reference), at: Date())
        _ = try await fixture.processor.reconcile()
        let totals = try await fixture.ledger.totals()
        #expect(totals.captured == fixture.invoice.total && totals.refunded == fixture.invoice.total, "\(totals)")
        #expect(
            try await fixture.storage.payments(invoiceID: fixture.invoice.id).map(\.status).sorted {
                $0.rawValue < $1.rawValue
            } == [.captured, .refunded])
        #expect(try await fixture.storage.invoice(id: fixture.invoice.id)?.status == .paid)
    }

    /// After an upgrade: a payment an earlier version settled `failed` on a guess, whose charge
    /// then landed, is found by cancelling its key, and the money pays the invoice (or would
    /// be refunded, were it paid another way meanwhile).
    @Test func aPaymentAnEarlierVersionFailedOnAGuessIsSettledFromTheProvidersBooks() async throws {
        let fixture = try await Fixture()
        let start = try await fixture.storage.startPayment(fixture.payment(), at: Date())
        _ = try await fixture.storage.settlePayment(
            start.payment.id, outcome: .failed(reason: PaymentProcessor.guessedFailure), at: Date())
        _ = try await fixture.ledger.capture(
            key: start.payment.providerKey, amount: start.payment.amount, method: "card")
        #expect(try await fixture.processor.reconcile() == 1)
        #expect(try await fixture.storage.payments(invoiceID: fixture.invoice.id).map(\.status) == [.captured])
        #expect(try await fixture.storage.invoice(id: fixture.invoice.id)?.status == .paid)
        #expect(try await fixture.ledger.totals().captured == fixture.invoice.total)
    }

    /// One customer cannot stop everyone's payments: the simulator's outcome tokens (here
    /// `tok_fail`, a provider fault) work only in test mode, so a customer who sends them to a
    /// provider in normal mode is charged as anyone else and the breaker stays closed.
    @Test func aCustomersTestTokensCannotOpenTheBreakerOutsideTestMode() async throws {
        let ledger = MemorySimulatedProviderLedger()
        var normalMode = Fixture.instant
        normalMode.testMode = false
        let gateway = ResilientPaymentGateway(
            SimulatedPaymentGateway(ledger: ledger, configuration: normalMode, clock: ContinuousClock()),
            configuration: {
                var configuration = ResilientPaymentGateway<ContinuousClock>.Configuration()
                configuration.initialBackoff = .zero
                return configuration
            }(),
            clock: ContinuousClock(), logger: Logger(label: "test"))
        for attempt in 0..<4 {
            let outcome = try? await gateway.charge(
                ChargeRequest(
                    key: "k\(attempt)", amount: Money("1.00")!, method: "card", token: "tok_fail", description: "test"))
            #expect(outcome != nil, "a test token outside test mode is an ordinary payment")
        }
        #expect(gateway.breaker.state == .closed)
    }
}
