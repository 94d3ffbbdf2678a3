import Broker
import Contracts
import Foundation
import MercatoTesting
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Metrics, logs and trace context of the running services, read the way an operator reads
/// them: `/metrics`, the log files, and the events on the wire.
@Suite(.needsSystem, .systemSlot, .serialized, .timeLimit(.minutes(10)))
struct ObservabilitySystemTests {
    @Test func oneOrdersTraceRunsFromItsRequestThroughEveryServiceToItsInvoice() async throws {
        let system = try await MercatoSystem.start(environment: ["LOG_LEVEL": "debug", "LOG_FORMAT": "json"])
        _ = try await Tap(system: system)
        let traceID = TraceParts.randomTraceID()
        let callerSpan = "00f067aa0ba902b7"
        try await system.placeOrderUntilInvoiced(traceparent: "00-\(traceID)-\(callerSpan)-01")

        // On the wire: both events carry the trace, each from a span of its own.
        let consumer = try await system.broker.consume(queue: Tap.queue, prefetch: 10)
        let wanted = [EventType.orderCreated.name, EventType.invoiceCreated.name]
        let traceparents = try await withDeadline(.seconds(60), "both events of the trace on the tap") {
            var traceparents: [String: String] = [:]
            while !wanted.allSatisfy({ traceparents[$0] != nil }) {
                for delivery in await consumer.next(max: 10) {
                    if let type = delivery.properties.type,
                        let header = delivery.properties.headers["traceparent"]?.stringValue,
                        TraceParts(header)?.traceID == traceID
                    {
                        traceparents[type] = header
                    }
                    try await delivery.ack()
                }
            }
            return traceparents
        }
        await consumer.cancel()
        let orderCreated = try #require(traceparents[EventType.orderCreated.name].flatMap(TraceParts.init))
        let invoiceCreated = try #require(traceparents[EventType.invoiceCreated.name].flatMap(TraceParts.init))
        #expect(orderCreated.traceID == traceID)
        #expect(invoiceCreated.traceID == traceID)
        #expect(
            orderCreated.spanID != callerSpan, "order.created comes from order-service's server span, not the caller's")
        #expect(
            invoiceCreated.spanID != orderCreated.spanID, "invoice.created comes from invoice-service's consumer span")

        // In the logs: every service logged a JSON line carrying the trace id.
        try await system.eventually("each service has logged the trace") {
            MercatoSystem.Service.allCases.allSatisfy { service in
                system.jsonLogLines(service).contains {
                    $0["trace.id"] as? String == traceID && $0["service"] as? String == service.rawValue
                }
            }
        }
        let applied = system.jsonLogLines(.customer).first {
            $0["message"] as? String == "event applied" && $0["trace.id"] as? String == traceID
        }
        #expect(applied?["event.id"] != nil)
        let placed = system.jsonLogLines(.order).first {
            $0["message"] as? String == "order placed" && $0["trace.id"] as? String == traceID
        }
        #expect(placed?["order.id"] != nil)
        let serverSpan = system.jsonLogLines(.order).first {
            $0["message"] as? String == "span ended" && $0["trace.id"] as? String == traceID
        }
        #expect(serverSpan?["span.parent_id"] as? String == callerSpan)
        #expect(serverSpan?["span.id"] as? String == orderCreated.spanID)
        await system.shutdown()
    }

    @Test func metricsShowRequestsEventsOutboxAndPool() async throws {
        let system = try await MercatoSystem.start()
        for index in 0..<3 {
            let (status, _) = try await system.placeOrder(
                customer: OrderFlowSystemTests.seeds[index], items: [("Pen", 1, "1.20")])
            #expect(status == 201)
        }
        try await system.publish(
            OutboundMessage(
                exchange: ExchangeName.orders, routingKey: EventType.orderCreated.name,
                properties: MessageProperties(
                    contentType: "application/cloudevents+json", messageID: "junk-1", type: "order.created"),
                body: Data("{not json".utf8)))
        try await system.expectSettled(orders: 3)

        // Counters move in the relay and consumers a moment after the databases show the
        // effect, and the sampled gauges every 2 s.
        try await system.eventually("the metrics show the orders") {
            let order = try await system.metrics(.order)
            let customer = try await system.metrics(.customer)
            let invoice = try await system.metrics(.invoice)
            return order.value(
                "http_server_requests_total",
                ["http_route": "/orders", "http_request_method": "POST", "http_response_status_code": "201"]) == 3
                && order.value("mercato_events_published_total", ["event_type": "order.created"]) == 3
                && order.value(
                    "mercato_events_consumed_total",
                    ["queue": QueueName.orderInvoiceCreated, "event_type": "invoice.created"]) == 3
                && customer.value(
                    "mercato_events_consumed_total",
                    ["queue": QueueName.customerOrderCreated, "event_type": "order.created"]) == 3
                && customer.value(
                    "mercato_events_dead_lettered_total",
                    ["queue": QueueName.customerOrderCreated, "event_type": "order.created", "reason": "malformed"])
                    == 1
                && invoice.value("mercato_events_published_total", ["event_type": "invoice.created"]) == 3
                && invoice.value("mercato_outbox_backlog", [:]) == 0
                // Sampled every 2 s: a sample from before the last publish still shows its age.
                && order.value("mercato_outbox_oldest_age_seconds", [:]) == 0
                && (invoice.value("mercato_db_pool_connections", ["state": "idle"]) ?? 0) >= 1
        }
        let order = try await system.metrics(.order)
        // Admission control's figures are there from the first scrape, before anything is shed.
        #expect(
            order.value("mercato_admission_share", [:]) == 1 && order.value("mercato_requests_shed_total", [:]) == 0)
        #expect(
            order.value(
                "http_server_request_duration_seconds_count",
                ["http_route": "/orders", "http_request_method": "POST", "http_response_status_code": "201"]) == 3)
        let invoice = try await system.metrics(.invoice)
        #expect(
            (invoice.value("mercato_event_handler_duration_seconds_count", ["queue": QueueName.invoiceStockReserved])
                ?? 0) >= 1)
        #expect(invoice.value("mercato_event_batch_size_sum", ["queue": QueueName.invoiceStockReserved]) == 3)

        // Every Mercato metric the Grafana dashboard queries is one the services expose.
        let customer = try await system.metrics(.customer)
        let exposed = Set((order.samples + customer.samples + invoice.samples).map(\.name))
        for metric in try Self.dashboardMetrics() where !metric.hasPrefix("rabbitmq_") {
            #expect(exposed.contains(metric), "the dashboard queries \(metric), which no service exposes")
        }
        await system.shutdown()
    }

    /// The metric names in the PromQL of deploy/grafana/dashboards/mercato.json.
    static func dashboardMetrics() throws -> Set<String> {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
            .appendingPathComponent("deploy/grafana/dashboards/mercato.json")
        let dashboard = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        let panels = try #require(dashboard["panels"] as? [[String: Any]])
        let expressions = panels.flatMap {
            ($0["targets"] as? [[String: Any]] ?? []).compactMap { $0["expr"] as? String }
        }
        let pattern = try Regex("(mercato|http_server|rabbitmq)_[a-z_]+")
        let names = Set(expressions.flatMap { $0.matches(of: pattern).map { String($0.output[0].substring ?? "") } })
        #expect(names.count > 5)
        return names
    }
}

/// The ids of a `traceparent`.
struct TraceParts {
    var traceID: String
    var spanID: String

    /// A new trace id, for a test's own trace.
    static func randomTraceID() -> String {
        String((0..<32).map { _ in "0123456789abcdef".randomElement()! })
    }

    init?(_ traceparent: String) {
        let parts = traceparent.split(separator: "-")
        guard parts.count == 4 else { return nil }
        traceID = String(parts[1])
        spanID = String(parts[2])
    }
}

/// A Prometheus text exposition, parsed into samples.
struct PrometheusSamples {
    var samples: [(name: String, labels: [String: String], value: Double)] = []

    init(text: String) {
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else {
                continue
            }
            let series = line[..<space]
            var labels: [String: String] = [:]
            var name = String(series)
            if let open = series.firstIndex(of: "{"), series.last == "}" {
                name = String(series[..<open])
                let body = series[series.index(after: open)..<series.index(before: series.endIndex)]
                // Label values here never hold commas or quotes.
                for pair in body.split(separator: ",") {
                    let parts = pair.split(separator: "=", maxSplits: 1)
                    if parts.count == 2 {
                        labels[String(parts[0])] = parts[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
                    }
                }
            }
            samples.append((name, labels, value))
        }
    }

    /// The sum of the samples named `name` whose labels include `labels`; `nil` if none.
    func value(_ name: String, _ labels: [String: String]) -> Double? {
        let matching = samples.filter { sample in
            sample.name == name && labels.allSatisfy { sample.labels[$0.key] == $0.value }
        }
        return matching.isEmpty ? nil : matching.map(\.value).reduce(0, +)
    }
}

extension MercatoSystem {
    /// Places an order for a seeded customer with `traceparent`, and waits until it is invoiced.
    func placeOrderUntilInvoiced(traceparent: String) async throws {
        let (status, order) = try await placeOrder(
            customer: OrderFlowSystemTests.seeds[0], items: [("Tea", 1, "3.50")], headers: ["traceparent": traceparent])
        #expect(status == 201)
        let orderID = try #require(order["id"] as? String)
        try await eventually("the order is invoiced") {
            let (_, body) = try await self.request(.order, "GET", "/orders/\(orderID)")
            return (body as? [String: Any])?["status"] as? String == "invoiced"
        }
    }

    /// `GET /metrics` of `service`, parsed.
    func metrics(_ service: Service) async throws -> PrometheusSamples {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(ports[service]!)/metrics")!)
        request.httpMethod = "GET"
        let (data, response) = try await Self.session.data(for: request)
        guard (response as? HTTPURLResponse)?.statusCode == 200 else { throw SystemTestFailure("GET /metrics failed") }
        return PrometheusSamples(text: String(decoding: data, as: UTF8.self))
    }

    /// The JSON objects of `service`'s log (lines that are not JSON are skipped).
    func jsonLogLines(_ service: Service) -> [[String: Any]] {
        let text =
            (try? String(contentsOf: logDirectory.appendingPathComponent("\(service.rawValue).log"), encoding: .utf8))
            ?? ""
        return text.split(separator: "\n").compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
        }
    }
}
