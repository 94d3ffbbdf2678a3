public import Hummingbird
public import Prometheus

/// `GET /metrics`: every metric of the process in the Prometheus text format.
public enum MetricsRoutes {
    /// Adds the endpoint, rendering `registry`.
    public static func add<Context: RequestContext>(to router: Router<Context>, registry: PrometheusCollectorRegistry) {
        router.get("/metrics") { _, _ in
            var buffer = ByteBuffer()
            buffer.writeBytes(registry.emitToBuffer())
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: buffer))
        }
    }
}
