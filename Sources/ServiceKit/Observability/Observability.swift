import Locking
public import Logging
import Metrics
public import Prometheus
import Tracing

/// The process-wide observability of a service: logging, metrics and tracing, bootstrapped
/// once, first thing in `main`.
public enum Observability {
    /// Every metric of the process; `GET /metrics` renders it.
    public static let registry = PrometheusCollectorRegistry()

    /// The OTLP exporter when `OTEL_EXPORTER_OTLP_ENDPOINT` is set: ``ServiceRuntime`` runs it
    /// as a service of its group, so spans still buffered at shutdown are sent.
    public static var spanExporter: OTLPSpanExporter? { otlp.withLock { $0 } }
    private static let otlp = Locked<OTLPSpanExporter?>(nil)

    /// Sets up, in this order:
    /// - logging: JSON lines or readable text at the configured level, each line carrying the
    ///   trace and span id of the task's current span (`trace.id`, `span.id`);
    /// - metrics: swift-metrics into ``registry`` (Prometheus);
    /// - tracing: ``TraceContextTracer``, W3C `traceparent` in and out, finished spans logged
    ///   at `debug` and, with an OTLP endpoint configured, sent to that collector.
    public static func bootstrap(_ configuration: ServiceConfiguration) {
        let level = configuration.logLevel
        let provider = Logger.MetadataProvider.traceContext
        switch configuration.logFormat {
        case .json:
            LoggingSystem.bootstrap(
                { label, provider in
                    var handler = JSONLogHandler(label: label, metadataProvider: provider)
                    handler.logLevel = level
                    return handler
                }, metadataProvider: provider)
        case .text:
            LoggingSystem.bootstrap(
                { label, provider in
                    var handler = StreamLogHandler.standardOutput(label: label, metadataProvider: provider)
                    handler.logLevel = level
                    return handler
                }, metadataProvider: provider)
        }
        MetricsSystem.bootstrap(metricsFactory)
        var spanLogger = Logger(label: configuration.serviceName)
        spanLogger.logLevel = level
        var exporters: [any SpanExporter] = [LogSpanExporter(logger: spanLogger)]
        if let endpoint = configuration.otlpEndpoint {
            let exporter = OTLPSpanExporter(
                configuration: .init(endpoint: endpoint, serviceName: configuration.serviceName), logger: spanLogger)
            otlp.withLock { $0 = exporter }
            exporters.append(exporter)
        }
        InstrumentationSystem.bootstrap(TraceContextTracer(exporters: exporters))
    }
}

extension Observability {
    /// Prometheus for swift-metrics, with the conventional names (`_total`, `_seconds`) for
    /// Hummingbird's HTTP metrics, and buckets fine enough for millisecond latency targets.
    static var metricsFactory: PrometheusMetricsFactory {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000].map {
            Duration.microseconds(Int64($0 * 1000))
        }
        factory.valueHistogramBuckets["mercato_event_batch_size"] = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000]
        let renamed = [
            "hb.requests": "http_server_requests_total", "hb.request.errors": "http_server_request_errors_total",
            "http.server.request.duration": "http_server_request_duration_seconds",
            "http.server.active_requests": "http_server_active_requests",
        ]
        factory.nameAndLabelSanitizer = { name, labels in (renamed[name] ?? name, labels) }
        return factory
    }
}

extension Logger.MetadataProvider {
    /// `trace.id` and `span.id` of the task's current span.
    public static let traceContext = Logger.MetadataProvider {
        guard let trace = TraceContext.current else { return [:] }
        return ["trace.id": "\(trace.traceID)", "span.id": "\(trace.spanID)"]
    }
}
