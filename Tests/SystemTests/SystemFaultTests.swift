import Audit
import Broker
import Contracts
import Foundation
import MercatoTesting
import Postgres
import Testing

/// The fault-injection suite: the whole system — RabbitMQ, PostgreSQL, the three services as
/// processes — under a steady stream of orders while one thing at a time goes wrong. After
/// each fault it drains and audits the databases: every accepted order stored, counted and
/// invoiced exactly once, no outbox row left, the dead-letter queues holding exactly what
/// was injected.
///
/// It kills the shared test RabbitMQ and PostgreSQL, so `scripts/test` runs it in the phase
/// of its own (its name ends in FaultTests); `scripts/fault-injection` runs it alone.
@Suite(.needsSystem, .systemSlot, .serialized, .timeLimit(.minutes(25)))
struct SystemFaultTests {
    @Test func nothingIsLostOrDoubledUnderFaults() async throws {
        guard !MercatoSystem.isCluster else {
            throw SystemTestFailure(
                "the single-node fault suite runs on one RabbitMQ node, not a cluster (scripts/test runs it so)")
        }
        try await runFaultScenarios(FaultScenario.selected(cluster: false))
    }
}

/// Runs `scenarios` one after the other, each on a system of its own, expects each to pass,
/// and prints (and with `MERCATO_FAULT_REPORT`, writes) the report table.
func runFaultScenarios(_ scenarios: [FaultScenario]) async throws {
    var outcomes: [FaultOutcome] = []
    for scenario in scenarios {
        progress("fault-injection: \(scenario.rawValue): \(scenario.title)")
        let outcome = await FaultRun(scenario: scenario).run()
        progress(
            "fault-injection: \(scenario.rawValue): \(outcome.passed ? "pass" : "FAIL") — \(outcome.passed ? outcome.audit.summary : outcome.audit.description)"
                + (outcome.problems.isEmpty ? "" : "; problems: \(outcome.problems.joined(separator: "; "))"))
        outcomes.append(outcome)
        #expect(outcome.passed, "\(scenario.title): \(outcome.audit); problems: \(outcome.problems)")
        #expect(outcome.audit.lost == 0, "\(scenario.title): lost")
        #expect(outcome.audit.doubled == 0, "\(scenario.title): doubled")
        #expect(outcome.audit.inconsistent == 0 && outcome.audit.unrefunded == 0, "\(scenario.title): inconsistent")
        #expect(outcome.audit.oversold == 0, "\(scenario.title): oversold")
    }
    let table = FaultReport(outcomes: outcomes).table
    print("fault-injection report\n" + table)
    if let path = MercatoSystem.environment["MERCATO_FAULT_REPORT"] {
        try (table + "\n").write(toFile: path, atomically: true, encoding: .utf8)
    }
}

/// A line on standard error, which is unbuffered: standard output reaches a pipe only when
/// the test process ends, too late to follow a run of several minutes.
func progress(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}

/// One scenario from start to audit, on a system of its own.
struct FaultRun {
    let scenario: FaultScenario

    func run() async -> FaultOutcome {
        var outcome = FaultOutcome(scenario: scenario)
        let system: MercatoSystem
        let replicas = Replicas()
        do {
            system = try await MercatoSystem.start(
                environment: scenario == .saga
                    ? ["PAYMENT_SIM_LATENCY_MS": "20", "PAYMENT_RECONCILE_INTERVAL_MS": "500"] : [:])
        } catch {
            outcome.problems.append("the system did not start: \(error)")
            return outcome
        }
        do {
            if scenario.needsCluster { try await replicas.launch(on: system) }
            try await exercise(system, replicas, &outcome)
        } catch {
            outcome.problems.append("\(error)")
        }
        await replicas.stop()
        await system.shutdown()
        return outcome
    }

    private func exercise(_ system: MercatoSystem, _ replicas: Replicas, _ outcome: inout FaultOutcome) async throws {
        var customers = OrderFlowSystemTests.seeds.map { UUID(uuidString: $0)! }
        for index in 0..<5 {
            let (status, body) = try await system.request(
                .customer, "POST", "/customers",
                json: [
                    "name": "Fault Customer \(index)", "email": "fault\(index)@example.com",
                    "address": "Street \(index)",
                ])
            guard status == 201, let id = ((body as? [String: Any])?["id"] as? String).flatMap(UUID.init(uuidString:))
            else {
                throw SystemTestFailure("POST /customers answered \(status)")
            }
            customers.append(id)
        }
        let tap = scenario == .duplicates ? try await Tap(system: system) : nil

        let products = try await OrderStream.products(on: system, scarce: scenario == .catalog ? 40 : nil)
        let stream = OrderStream(
            system: system, customers: customers, products: products,
            ports: [system.ports[.order]!] + replicas.ports(of: .order))
        let saga = scenario == .saga ? SagaDriver(system: system, stream: stream) : nil
        try await stream.waitForAccepted(30)
        var poisons: [PoisonCatalog.Poison] = []
        var synthetic: Synthetic?
        let faultStart = ContinuousClock.now

        switch scenario {
        case .clusterLeader:
            poisons = try await Self.injectPoison(into: system, tag: "cluster", pause: .zero)
            let node = try await ClusterNodes.leader(of: QueueName.invoiceStockReserved, on: system)
            let connections = try await ClusterNodes.serviceConnections(
                of: system, expected: ClusterNodes.expectedServiceConnections)
            progress(
                "fault-injection: \(scenario.rawValue): the leaders are on node \(node); the services' connections by node: \(connections.sorted { $0.key < $1.key })"
            )
            try await Integration.infra("rabbitmq", "kill", "\(node)")
            try await Task.sleep(for: .seconds(10))
            try await Integration.infra("rabbitmq", "start", "\(node)")
        case .clusterRolling:
            for node in 1...3 {
                try await Integration.infra("rabbitmq", "restart", "\(node)")
                try await ClusterNodes.waitUntilAllRunning()
                try await Task.sleep(for: .seconds(3))
            }
        case .clusterPartition:
            // The node with the leaders, unless none of the services' connections is on it:
            // the scenario is about clients on the minority side.
            let leader = try await ClusterNodes.leader(of: QueueName.invoiceStockReserved, on: system)
            let connections = try await ClusterNodes.serviceConnections(
                of: system, expected: ClusterNodes.expectedServiceConnections)
            let node =
                connections[leader, default: 0] > 0 ? leader : connections.max { $0.value < $1.value }?.key ?? leader
            progress(
                "fault-injection: \(scenario.rawValue): cutting off node \(node) (leaders on node \(leader)); the services' connections by node: \(connections.sorted { $0.key < $1.key })"
            )
            if connections[node, default: 0] == 0 {
                outcome.problems.append("no service connection was on the node cut off: \(connections)")
            }
            try await Integration.infra("rabbitmq", "partition", "\(node)", "20")
            try await Task.sleep(for: .seconds(20))
            try await ClusterNodes.waitUntilAllRunning(timeout: .seconds(120))
        case .zombies:
            for port in replicas.ports(of: .order) { stream.exclude(port: port) }
            replicas.signal(SIGSTOP)
            try await Task.sleep(for: .seconds(35))
            replicas.signal(SIGCONT)
            try await replicas.waitUntilReady(on: system)
            for port in replicas.ports(of: .order) { stream.include(port: port) }
        case .postgresStall:
            try await Integration.infra("postgres", "pause")
            try await Task.sleep(for: .seconds(10))
            try await Integration.infra("postgres", "resume")
        case .replicaKill:
            for port in replicas.ports(of: .order) { stream.exclude(port: port) }
            await replicas.kill()
            try await Task.sleep(for: .seconds(10))
        case .rabbitmq:
            try await Integration.infra("rabbitmq", "kill")
            try await Task.sleep(for: .seconds(3))
            try await Integration.infra("rabbitmq", "start")
        case .postgres:
            try await Integration.infra("postgres", "stop")
            try await Task.sleep(for: .seconds(2))
            try await Integration.infra("postgres", "start")
        case .consumers:
            await system.kill(.customer)
            await system.kill(.invoice)
            try await Task.sleep(for: .seconds(2))
            try await system.restart(.customer)
            try await system.restart(.invoice)
        case .orderService:
            await system.kill(.order)
            try await Task.sleep(for: .seconds(1))
            try await system.restart(.order)
        case .catalog:
            await system.kill(.catalog)
            try await Task.sleep(for: .seconds(2))
            try await system.restart(.catalog)
        case .duplicates:
            try await tap!.republish(for: .seconds(5))
            synthetic = try await Synthetic.publish(on: system)
        case .poison:
            poisons = try await Self.injectPoison(into: system, tag: "fault", pause: .milliseconds(300))
        case .saga:
            try await Task.sleep(for: .seconds(2))
            try await Integration.infra("rabbitmq", "kill")
            try await Task.sleep(for: .seconds(3))
            try await Integration.infra("rabbitmq", "start")
            try await Task.sleep(for: .seconds(3))
            await system.kill(.invoice)
            try await Task.sleep(for: .seconds(1))
            try await system.restart(.invoice)
            try await Task.sleep(for: .seconds(2))
            await system.kill(.order)
            try await Task.sleep(for: .seconds(1))
            try await system.restart(.order)
            try await Task.sleep(for: .seconds(2))
            await system.kill(.customer)
            try await Task.sleep(for: .seconds(1))
            try await system.restart(.customer)
        }
        let faultEnd = ContinuousClock.now
        outcome.fault = faultEnd - faultStart
        outcome.recovery = try await recovered(system, stream, since: faultEnd)
        try await Task.sleep(for: .seconds(2))
        await stream.stop()
        if let saga {
            // Every payment or cancellation started gets its answer before the audit.
            try await Task.sleep(for: .seconds(3))
            await saga.stop()
            progress("fault-injection: saga: \(saga.summary)")
        }

        outcome.accepted = stream.accepted.count
        outcome.httpErrors = stream.failures.count
        outcome.httpErrorKinds = stream.failureSummary
        outcome.audit = try await system.drain(accepted: stream.acceptedIDs)

        // The dead-letter queues hold exactly what was injected, with the reasons.
        var deadLetters: [Delivery] = []
        for queue in Topology.mercato().queues.map(\.name) where !queue.hasSuffix(".dlq") && !queue.contains(".retry.")
        {
            var expecting =
                [QueueName.customerOrderCreated, QueueName.catalogOrderEvents].contains(queue) ? poisons.count : 0
            if queue == QueueName.orderInvoiceCreated, synthetic != nil { expecting += 1 }
            deadLetters += try await system.drainDeadLetters(of: queue, expecting: expecting)
        }
        outcome.deadLetters = deadLetters.count
        // Each poison goes to both consumers of order.created, and each dead-letters it; the
        // synthetic invoice of an order never stored is dead-lettered by order-service.
        outcome.expectedDeadLetters = poisons.count * 2 + (synthetic == nil ? 0 : 1)
        let reasons = deadLetters.compactMap { $0.properties.headers["x-mercato-error"]?.stringValue }
            .filter { reason in synthetic.map { !reason.contains($0.orderID.uuidString.lowercased()) } ?? true }
        for poison in poisons where reasons.filter({ $0.contains(poison.reason) }).count != 2 {
            outcome.problems.append(
                "\(poison.name) is not dead-lettered by both consumers with \"\(poison.reason)\"; reasons: \(reasons)")
        }
        if poisons.isEmpty, !reasons.isEmpty {
            outcome.problems.append("unexpected dead letters: \(reasons.prefix(5))")
        }
        if let synthetic { try await synthetic.check(on: system, deadLetters: deadLetters, &outcome.problems) }
    }

    /// Publishes every kind of poison message among the orders, `pause` apart.
    private static func injectPoison(into system: MercatoSystem, tag: String, pause: Duration) async throws
        -> [PoisonCatalog.Poison]
    {
        let poisons = try PoisonCatalog.all(tag: "\(tag)-\(UUID().uuidString.prefix(8))")
        for poison in poisons {
            try await system.publish(poison.message)
            if pause > .zero { try await Task.sleep(for: pause) }
        }
        return poisons
    }

    /// Waits until every order accepted before `faultEnd` is invoiced (order-service marked it)
    /// or cancelled, and counted by customer-service, and returns how long that took.
    private func recovered(_ system: MercatoSystem, _ stream: OrderStream, since faultEnd: ContinuousClock.Instant)
        async throws -> Duration
    {
        let backlog = stream.accepted.filter { $0.at <= faultEnd }
        let ids = backlog.map(\.id)
        let deadline = faultEnd + .seconds(180)
        while ContinuousClock.now < deadline {
            // A cancelled order may never be invoiced, and no longer counts.
            if let invoiced = try? await system.database(.order).query(
                "SELECT count(*) FROM orders WHERE id = ANY($1) AND (invoice_id IS NOT NULL OR status = 'cancelled')",
                ids)[0].decode(Int.self, at: 0),
                invoiced == ids.count,
                let perCustomer = try? await system.database(.order).query(
                    "SELECT customer_id, count(*) FROM orders WHERE id = ANY($1) AND status <> 'cancelled' GROUP BY customer_id",
                    ids
                ).reduce(into: [UUID: Int](), { $0[try $1.decode(UUID.self, at: 0)] = try $1.decode(Int.self, at: 1) }),
                let counts = try? await system.database(.customer).query(
                    "SELECT id, orders_count FROM customers WHERE id = ANY($1)", Array(perCustomer.keys)),
                try counts.allSatisfy({
                    try $0.decode(Int.self, "orders_count") >= perCustomer[try $0.decode(UUID.self, "id")] ?? 0
                })
            {
                return ContinuousClock.now - faultEnd
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw SystemTestFailure(
            "the orders accepted before the fault ended were not all counted and invoiced within 180 s")
    }
}

/// A queue that sees every event the services publish, so the suite can publish them again.
struct Tap {
    static let queue = "fault-injection.tap"
    let system: MercatoSystem

    init(system: MercatoSystem) async throws {
        self.system = system
        try await system.broker.declare(
            Topology(
                queues: [.init(name: Self.queue)],
                bindings: [
                    .init(exchange: ExchangeName.orders, queue: Self.queue, routingKey: EventType.orderCreated.name),
                    .init(
                        exchange: ExchangeName.invoices, queue: Self.queue, routingKey: EventType.invoiceCreated.name),
                    .init(exchange: ExchangeName.customers, queue: Self.queue, routingKey: "customer.*"),
                ]))
    }

    /// For `duration`, publishes every event that reaches the tap twice more, each batch in
    /// reverse order, so consumers see duplicates and reorderings (including a
    /// `customer.updated` before its `customer.created`).
    func republish(for duration: Duration) async throws {
        let consumer = try await system.broker.consume(queue: Self.queue, prefetch: 200)
        var republished = Set<String>()
        let deadline = ContinuousClock.now + duration
        while ContinuousClock.now < deadline {
            let batch = await consumer.next(max: 100)
            let fresh = batch.filter { delivery in
                delivery.properties.messageID.map { republished.insert($0).inserted } ?? false
            }
            let copies = fresh.reversed().map {
                OutboundMessage(
                    exchange: $0.exchange, routingKey: $0.routingKey, properties: $0.properties, body: $0.body)
            }
            if !copies.isEmpty { try await system.publish(copies + copies) }
            if let last = batch.last { try await last.ack(multiple: true) }
        }
        await consumer.cancel()
        if republished.isEmpty { throw SystemTestFailure("the tap saw no events to republish") }
    }
}

/// Events no service published: an `invoice.created` for an order order-service never stored
/// (retried, then dead-lettered), and a customer's version 3 before its version 1.
struct Synthetic {
    let orderID: UUID
    let customerID: UUID

    static func publish(on system: MercatoSystem) async throws -> Synthetic {
        let synthetic = Synthetic(orderID: UUID(), customerID: UUID())
        let invoice = CloudEvent(
            source: "/tests/synthetic",
            data: InvoiceCreated(
                invoiceID: UUID(), invoiceNumber: "INV-2000-999999", orderID: synthetic.orderID,
                customerID: synthetic.customerID,
                lines: [OrderLine(productName: "Ghost", quantity: 1, unitPrice: Money("1.00")!)],
                subtotal: Money("1.00")!,
                taxRate: Decimal(string: "0.20")!, tax: Money("0.20")!, total: Money("1.20")!, issuedAt: Date()))
        func snapshot(_ version: Int, _ name: String) -> CustomerSnapshot {
            CustomerSnapshot(
                customerID: synthetic.customerID, name: name, email: "reordered@example.com", address: "Elsewhere",
                ordersCount: 0,
                version: version, updatedAt: Date())
        }
        let updated = CloudEvent(
            source: "/tests/synthetic", data: CustomerUpdated(customer: snapshot(3, "Version Three")))
        let created = CloudEvent(
            source: "/tests/synthetic", data: CustomerCreated(customer: snapshot(1, "Version One")))
        try await system.publish(OrderFlowSystemTests.amqpMessage(invoice))
        try await system.publish(OrderFlowSystemTests.amqpMessage(updated))
        try await system.publish(OrderFlowSystemTests.amqpMessage(created))
        return synthetic
    }

    /// order-service dead-lettered the invoice of an order it never stored, naming the order
    /// (after its retries: `deadLetters` are the drained dead letters), stored nothing for it,
    /// and its replica kept version 3 (waited for: the events may still be on their way after
    /// a fault, and a wrong end state stays wrong).
    func check(on system: MercatoSystem, deadLetters: [Delivery], _ problems: inout [String]) async throws {
        let orders = system.database(.order)
        try? await system.eventually("the synthetic customer events are handled", timeout: .seconds(60)) {
            let version = try await orders.query("SELECT version FROM customers WHERE id = $1", customerID).first?
                .decode(Int.self, at: 0)
            return version == 3
        }
        let order = orderID.uuidString.lowercased()
        let deadLettered = deadLetters.filter {
            $0.queue == QueueName.deadLetter(of: QueueName.orderInvoiceCreated)
                && ($0.properties.headers["x-mercato-error"]?.stringValue ?? "").contains(order)
        }
        if deadLettered.count != 1 {
            problems.append(
                "the invoice of an order never stored was dead-lettered \(deadLettered.count) times, not once")
        }
        let stored = try await orders.query("SELECT count(*) FROM orders WHERE id = $1", orderID)[0].decode(
            Int.self, at: 0)
        if stored != 0 { problems.append("order-service stored an order for an invoice alone") }
        let replica = try await orders.query("SELECT name, version FROM customers WHERE id = $1", customerID)
        let version = try replica.first?.decode(Int.self, "version")
        if version != 3 {
            problems.append("order-service's replica did not keep version 3 of a reordered customer")
        }
    }
}
