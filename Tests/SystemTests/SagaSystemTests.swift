import Audit
import Contracts
import Foundation
import MercatoTesting
import Postgres
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The order's whole life end to end, as separate processes over real RabbitMQ and
/// PostgreSQL: payments through the simulated provider (with its test tokens), cancellations,
/// the refund that compensates a payment racing a cancellation, the circuit breaker, and
/// invoices closed at their due date. Every test ends with the cross-database audit.
@Suite(.needsSystem, .systemSlot, .serialized, .timeLimit(.minutes(10)))
struct SagaSystemTests {
    static let customer = OrderFlowSystemTests.seeds[0]

    /// A system with a prompt provider and a reconciler that looks every 200 ms. The provider's
    /// timeout is generous: a call that answers must not time out however busy the machine
    /// (at 400 ms, expected 402s and 201s came back as 503s under load); `tok_hang` never
    /// answers, so the timeout paths are still taken (two attempts, about 10 s).
    static func start(_ extra: [String: String] = [:]) async throws -> MercatoSystem {
        var environment = [
            "PAYMENT_SIM_LATENCY_MS": "20", "PAYMENT_GATEWAY_TIMEOUT_MS": "5000", "PAYMENT_GATEWAY_ATTEMPTS": "2",
            "PAYMENT_RECONCILE_INTERVAL_MS": "200", "PAYMENT_SWEEP_INTERVAL_MS": "200", "PAYMENT_SIM_TEST_MODE": "true",
        ]
        for (key, value) in extra { environment[key] = value }
        return try await MercatoSystem.start(environment: environment)
    }

    @Test func payDeclineTimeoutAndIdempotentRetries() async throws {
        let system = try await Self.start()
        let (order, invoice, total) = try await system.invoicedOrder(customer: Self.customer)

        // Bad input: no key, wrong amount, unknown method.
        var (status, body) = try await system.pay(invoice, amount: total, key: nil)
        #expect(status == 400 && system.errorField(body) == "Idempotency-Key")
        (status, body) = try await system.pay(invoice, amount: "0.01", key: "wrong-amount")
        #expect(status == 422 && system.errorField(body) == "amount")
        (status, body) = try await system.pay(invoice, amount: total, key: "bad-method", method: "cheque")
        #expect(status == 422 && system.errorField(body) == "method")

        // Declined: 402 with the reason; the invoice still takes payment.
        (status, body) = try await system.pay(invoice, amount: total, key: "declined", token: "tok_decline")
        #expect(status == 402 && system.errorCode(body) == "payment_declined")
        #expect((system.errorMessage(body) ?? "").contains("insufficient_funds"))
        (status, _) = try await system.pay(invoice, amount: total, key: "declined", token: "tok_decline")
        #expect(status == 402, "a declined payment's key answers the same")

        // The provider hangs: every attempt times out; the outcome is unknown, nothing is paid.
        (status, body) = try await system.pay(invoice, amount: total, key: "hanging", token: "tok_hang")
        #expect(status == 503 && system.errorCode(body) == "payment_outcome_unknown")
        // The reconciler cancels the payment's key at the provider (which has no charge under
        // it, and now never will): the payment is cancelled, and its key answers so.
        try await system.eventually("the hanging payment is cancelled at the provider") {
            try await system.paymentStatuses(invoice).contains("cancelled")
        }
        (status, body) = try await system.pay(invoice, amount: total, key: "hanging", token: "tok_hang")
        #expect(status == 409 && system.errorCode(body) == "payment_cancelled", "\(String(describing: body))")

        // Paid: 201, and every retry with the key answers the same payment without a charge.
        (status, body) = try await system.pay(invoice, amount: total, key: "good")
        #expect(status == 201, "\(String(describing: body))")
        let payment = try #require((body as? [String: Any])?["id"] as? String)
        #expect(
            (body as? [String: Any])?["status"] as? String == "captured"
                && (body as? [String: Any])?["invoice_status"] as? String == "paid")
        for _ in 0..<3 {
            (status, body) = try await system.pay(invoice, amount: total, key: "good")
            #expect(status == 201 && (body as? [String: Any])?["id"] as? String == payment)
        }
        (status, body) = try await system.pay(invoice, amount: "1.00", key: "good")
        #expect(status == 409 && system.errorCode(body) == "idempotency_key_reused")
        (status, body) = try await system.pay(invoice, amount: total, key: "another")
        #expect(status == 409 && system.errorCode(body) == "invoice_paid")

        try await system.eventually("order-service marks the order paid") {
            try await system.orderStatus(order) == "paid"
        }
        (status, body) = try await system.request(.order, "POST", "/orders/\(order)/cancel")
        #expect(status == 409 && system.errorCode(body) == "order_paid")
        let captured = try await system.database(.invoice).query(
            "SELECT count(*), coalesce(sum(amount), 0) FROM simulated_provider_charges WHERE status = 'captured'")[0]
        #expect(
            try captured.decode(Int.self, at: 0) == 1 && Money(try captured.decode(Decimal.self, at: 1)) == Money(total)
        )
        try await system.expectHistory(of: order, ["order.created", "order.invoiced", "order.paid"])

        let audit = try await system.drain(accepted: [UUID(uuidString: order)!])
        #expect(audit.clean, "\(audit)")
        await system.shutdown()
    }

    @Test func cancelBeforeAndAfterInvoicing() async throws {
        let system = try await Self.start()
        let before = try await system.ordersCount(Self.customer)

        // Before invoicing: invoice-service is down while the order is placed and cancelled.
        await system.stop(.invoice)
        let (placed, body) = try await system.placeOrder(customer: Self.customer, items: [("Kettle", 1, "30.00")])
        #expect(placed == 201)
        let early = try #require(body["id"] as? String)
        var (status, cancelled) = try await system.request(.order, "POST", "/orders/\(early)/cancel")
        #expect(status == 200 && (cancelled as? [String: Any])?["status"] as? String == "cancelled")
        #expect((cancelled as? [String: Any])?["cancel_reason"] as? String == "requested")
        (status, _) = try await system.request(.order, "POST", "/orders/\(early)/cancel")
        #expect(status == 200, "cancelling again is harmless")
        try await system.restart(.invoice)

        // After invoicing: the invoice is voided, its number kept.
        let (late, invoice, _) = try await system.invoicedOrder(customer: Self.customer)
        (status, _) = try await system.request(.order, "POST", "/orders/\(late)/cancel")
        #expect(status == 200)
        try await system.eventually("the invoice is void") { try await system.invoiceStatus(invoice) == "void" }
        let (_, voided) = try await system.request(.invoice, "GET", "/invoices/\(invoice)")
        #expect(
            (voided as? [String: Any])?["number"] as? String != nil
                && (voided as? [String: Any])?["void_reason"] as? String == "requested")
        let (paid, refusal) = try await system.pay(invoice, amount: "1.00", key: "too-late")
        #expect(paid == 409 && system.errorCode(refusal) == "invoice_void")

        // A customer's token cancels its own orders only: another's is not found.
        let (other, _, _) = try await system.invoicedOrder(customer: OrderFlowSystemTests.seeds[1])
        let token = try await system.tokens.customer(UUID(uuidString: Self.customer)!)
        (status, _) = try await system.request(
            .order, "POST", "/orders/\(other)/cancel", headers: ["Authorization": "Bearer \(token)"])
        #expect(status == 404)
        (status, _) = try await system.request(.order, "POST", "/orders/\(UUID())/cancel")
        #expect(status == 404)

        try await system.eventually("orders_count is back where it was, plus the other customer's order only") {
            try await system.ordersCount(Self.customer) == before
        }
        let audit = try await system.drain(accepted: Set([early, late, other].compactMap(UUID.init(uuidString:))))
        #expect(audit.clean && audit.states["cancelled"] == 2, "\(audit)")
        // invoice-service learns of order.created and order.cancelled on separate queues: if the
        // creation came first the invoice was issued and is void now; otherwise there is none.
        let statuses = try await system.database(.invoice).query(
            "SELECT status FROM invoices WHERE order_id = $1", UUID(uuidString: early)!
        )
        .map { try $0.decode(String.self, at: 0) }
        #expect(statuses == [] || statuses == ["void"], "\(statuses)")
        await system.shutdown()
    }

    @Test func aPaymentThatRacesTheCancellationIsRefunded() async throws {
        // Deterministic: the provider holds the charge (tok_slow) for 20 s, and the test waits
        // for the invoice to be void before the charge is made, however long the cancellation
        // takes to travel (outbox, relay, broker, invoice-service) on a busy machine. 20 s is
        // as long as the test client waits for an answer (30 s) allows; the provider's timeout
        // outlasts the hold, and with it the reconciler's patience with a pending payment.
        let system = try await Self.start(["PAYMENT_SIM_SLOW_MS": "20000", "PAYMENT_GATEWAY_TIMEOUT_MS": "60000"])
        let (order, invoice, total) = try await system.invoicedOrder(customer: Self.customer)
        async let payment = system.pay(invoice, amount: total, key: "slow", token: "tok_slow")
        // Pending: recorded, and the provider called (or about to be) with the invoice still issued.
        try await system.eventually("the payment is pending") {
            try await system.paymentStatuses(invoice) == ["pending"]
        }
        let (status, _) = try await system.request(.order, "POST", "/orders/\(order)/cancel")
        #expect(status == 200)
        try await system.eventually("the invoice is void while the charge is held") {
            try await system.invoiceStatus(invoice) == "void"
        }
        let (paid, body) = try await payment
        #expect(paid == 409 && system.errorCode(body) == "invoice_void", "\(String(describing: body))")
        try await system.eventually("the payment is refunded and order-service knows") {
            let refunded = try await system.paymentStatuses(invoice) == ["refunded"]
            let recorded = try await system.orderField(order, "refunded_at") != nil
            return refunded && recorded
        }
        try await system.expectHistory(
            of: order, ["order.created", "order.invoiced", "order.cancelled", "order.refunded"])

        // Many times, both ways round: payment and cancellation sent together, either first.
        var accepted: Set<UUID> = [UUID(uuidString: order)!]
        var outcomes: [String: Int] = [:]
        for round in 0..<24 {
            let (order, invoice, total) = try await system.invoicedOrder(
                customer: OrderFlowSystemTests.seeds[round % 3])
            accepted.insert(UUID(uuidString: order)!)
            let offset = Duration.milliseconds(round % 6 * 10)
            async let pay = system.pay(invoice, amount: total, key: "race-\(round)")
            async let cancel: (Int, Any?) = {
                try await Task.sleep(for: offset)
                return try await system.request(.order, "POST", "/orders/\(order)/cancel")
            }()
            let ((paid, _), (cancelled, _)) = try await (pay, cancel)
            outcomes["pay \(paid), cancel \(cancelled)", default: 0] += 1
            #expect([201, 409].contains(paid) && [200, 409].contains(cancelled))
        }
        progress("saga race outcomes: \(outcomes.sorted { $0.key < $1.key })")
        let audit = try await system.drain(accepted: accepted)
        #expect(audit.clean, "\(audit)")
        #expect(
            (audit.states["paid"] ?? 0) + (audit.states["cancelled"] ?? 0) == accepted.count,
            "every order ends paid or cancelled")
        #expect(audit.refunds >= 1)
        await system.shutdown()
    }

    @Test func anOpenCircuitRefusesPaymentsWithoutCallingTheProvider() async throws {
        // Open for an hour: every check below runs while it is open, however slow the machine.
        let system = try await Self.start([
            "PAYMENT_CIRCUIT_FAILURES": "3", "PAYMENT_CIRCUIT_OPEN_MS": "3600000", "PAYMENT_GATEWAY_ATTEMPTS": "3",
        ])
        let (order, invoice, total) = try await system.invoicedOrder(customer: Self.customer)
        #expect(try await system.circuit() == "closed")
        var (status, body) = try await system.pay(invoice, amount: total, key: "failing", token: "tok_fail")
        #expect(status == 503 && system.errorCode(body) == "payment_provider_unavailable")
        #expect(try await system.circuit() == "open")
        #expect(try await system.metric("mercato_payment_circuit_state") == 2)
        (status, body) = try await system.pay(invoice, amount: total, key: "while-open")
        #expect(
            status == 503 && system.errorCode(body) == "payment_provider_unavailable",
            "refused without calling the provider")
        // Nothing was charged, so the key may try again: refused again while the circuit is open.
        (status, body) = try await system.pay(invoice, amount: total, key: "while-open")
        #expect(
            status == 503 && system.errorCode(body) == "payment_provider_unavailable", "\(String(describing: body))")
        #expect(
            try await system.database(.invoice).query("SELECT count(*) FROM simulated_provider_charges")[0].decode(
                Int.self, at: 0) == 0)
        #expect(try await system.circuit() == "open")
        let audit = try await system.drain(accepted: [UUID(uuidString: order)!])
        #expect(audit.clean && audit.states["invoiced"] == 1, "\(audit)")
        await system.shutdown()
    }

    @Test func theCircuitRecoversThroughAProbe() async throws {
        // Open for a second: recovery is waited for, and nothing here depends on the circuit
        // still being open at any moment (anOpenCircuitRefusesPaymentsWithoutCallingTheProvider
        // checks that, with a circuit open for an hour).
        let system = try await Self.start([
            "PAYMENT_CIRCUIT_FAILURES": "3", "PAYMENT_CIRCUIT_OPEN_MS": "1000", "PAYMENT_GATEWAY_ATTEMPTS": "3",
        ])
        let (order, invoice, total) = try await system.invoicedOrder(customer: Self.customer)
        var (status, body) = try await system.pay(invoice, amount: total, key: "failing", token: "tok_fail")
        #expect(status == 503 && system.errorCode(body) == "payment_provider_unavailable")
        // Refused if the circuit is still open, or the probe that closes it if it is half-open
        // by now (a slow machine): either way the key may pay once the circuit lets it through.
        (status, body) = try await system.pay(invoice, amount: total, key: "early")
        #expect(status == 503 || status == 201, "\(String(describing: body))")
        try await system.eventually("the circuit lets a probe through") { try await system.circuit() != "open" }
        // The same key again: the probe (which succeeds and closes the circuit), or the payment
        // the probe already made, answered again.
        (status, body) = try await system.pay(invoice, amount: total, key: "early")
        #expect(status == 201, "\(String(describing: body))")
        #expect(try await system.circuit() == "closed")
        #expect(try await system.metric("mercato_payment_circuit_state") == 0)
        let audit = try await system.drain(accepted: [UUID(uuidString: order)!])
        #expect(audit.clean && audit.states["paid"] == 1, "\(audit)")
        await system.shutdown()
    }

    @Test func anInvoiceUnpaidAtItsDueDateCancelsItsOrder() async throws {
        let system = try await Self.start(["PAYMENT_DUE_SECONDS": "2"])
        let before = try await system.ordersCount(Self.customer)
        let (order, invoice, _) = try await system.invoicedOrder(customer: Self.customer)
        // invoice-service has the invoice; order-service learns its due date from invoice.created.
        try await system.eventually("order-service knows the due date") {
            try await system.orderField(order, "payment_due_at") != nil
        }
        // invoice-service closes the invoice (invoice.overdue), and order-service cancels on it.
        try await system.eventually("the overdue invoice's order is cancelled") {
            try await system.orderStatus(order) == "cancelled"
        }
        #expect(try await system.orderField(order, "cancel_reason") as? String == "payment_overdue")
        try await system.eventually("its invoice is void and the count is back") {
            let void = try await system.invoiceStatus(invoice) == "void"
            let count = try await system.ordersCount(Self.customer)
            return void && count == before
        }
        let audit = try await system.drain(accepted: [UUID(uuidString: order)!])
        #expect(audit.clean, "\(audit)")
        await system.shutdown()
    }
}

extension MercatoSystem {
    /// Places an order and waits for its invoice; returns the order id, invoice id and total.
    func invoicedOrder(customer: String) async throws -> (order: String, invoice: String, total: String) {
        let (status, body) = try await placeOrder(customer: customer, items: [("Tea", 2, "3.50"), ("Cake", 1, "4.25")])
        guard status == 201, let order = body["id"] as? String else {
            throw SystemTestFailure("POST /orders answered \(status)")
        }
        var invoice: [String: Any]?
        try await eventually("order \(order) is invoiced") {
            let (_, list) = try await self.request(.invoice, "GET", "/invoices?order_id=\(order)")
            invoice = ((list as? [String: Any])?["data"] as? [[String: Any]])?.first
            return invoice != nil
        }
        guard let id = invoice?["id"] as? String, let total = invoice?["total"] as? String else {
            throw SystemTestFailure("no invoice")
        }
        return (order, id, total)
    }

    /// `POST /invoices/{id}/payments`.
    func pay(_ invoice: String, amount: String, key: String?, method: String = "card", token: String? = nil)
        async throws -> (Int, Any?)
    {
        var json: [String: Any] = ["amount": amount, "method": method]
        if let token { json["payment_token"] = token }
        return try await request(
            .invoice, "POST", "/invoices/\(invoice)/payments", json: json,
            headers: key.map { ["Idempotency-Key": $0] } ?? [:])
    }

    /// Waits until order-service's `GET /orders/{id}/history` lists `events`: a change is
    /// numbered (and shown) only once every transaction older than it has ended, which on a
    /// busy machine can take longer than the route waits for.
    func expectHistory(of order: String, _ events: [String]) async throws {
        var last: Any?
        do {
            try await eventually("the history of order \(order) is \(events)") {
                let (_, history) = try await request(.order, "GET", "/orders/\(order)/history")
                last = history
                return ((history as? [String: Any])?["changes"] as? [[String: Any]])?.compactMap {
                    $0["event"] as? String
                } == events
            }
        } catch {
            throw SystemTestFailure("last history answered: \(String(describing: last))\n\(error)")
        }
    }

    func errorCode(_ body: Any?) -> String? {
        ((body as? [String: Any])?["error"] as? [String: Any])?["code"] as? String
    }
    func errorField(_ body: Any?) -> String? {
        ((body as? [String: Any])?["error"] as? [String: Any])?["field"] as? String
    }
    func errorMessage(_ body: Any?) -> String? {
        ((body as? [String: Any])?["error"] as? [String: Any])?["message"] as? String
    }

    func orderField(_ order: String, _ field: String) async throws -> Any? {
        let (_, body) = try await request(.order, "GET", "/orders/\(order)")
        return (body as? [String: Any])?[field]
    }

    func orderStatus(_ order: String) async throws -> String? { try await orderField(order, "status") as? String }

    func invoiceStatus(_ invoice: String) async throws -> String? {
        let (_, body) = try await request(.invoice, "GET", "/invoices/\(invoice)")
        return (body as? [String: Any])?["status"] as? String
    }

    func paymentStatuses(_ invoice: String) async throws -> [String] {
        let (_, body) = try await request(.invoice, "GET", "/invoices/\(invoice)/payments")
        return ((body as? [String: Any])?["data"] as? [[String: Any]])?.compactMap { $0["status"] as? String } ?? []
    }

    func ordersCount(_ customer: String) async throws -> Int {
        try await database(.customer).query(
            "SELECT orders_count FROM customers WHERE id = $1", UUID(uuidString: customer)!)[0].decode(Int.self, at: 0)
    }

    /// The payment provider's circuit, as invoice-service's readiness shows it.
    func circuit() async throws -> String? {
        let (_, body) = try await request(.invoice, "GET", "/health/ready")
        return ((body as? [String: Any])?["details"] as? [String: Any])?["payment.circuit"] as? String
    }

    /// A metric of invoice-service without labels.
    func metric(_ name: String) async throws -> Double? {
        let (data, _) = try await Self.session.data(from: URL(string: "http://127.0.0.1:\(ports[.invoice]!)/metrics")!)
        let line = String(decoding: data, as: UTF8.self).split(separator: "\n").first { $0.hasPrefix(name + " ") }
        return line.flatMap { Double($0.split(separator: " ").last ?? "") }
    }
}
