public import Broker
public import Hummingbird
public import Postgres

/// `GET /health/live` and `GET /health/ready`.
///
/// Readiness answers from what the service already knows — migrations and topology done,
/// consumers registered, the broker's connection state, the outcome of the database's last
/// statement — and never from a query or a broker call of its own: a probe that waited for a
/// pooled connection (busy under load) or for a connection being re-established would time
/// out (Kubernetes gives it 1 s) and take a healthy pod out of service. Nothing the handler
/// reads can block, so it answers in microseconds, well inside ``Configuration/answerBudget``.
public enum HealthRoutes {
    /// How fresh the known state must be.
    public struct Configuration: Sendable {
        /// The database counts as reachable if a statement succeeded within this long and
        /// nothing failed since. Default 5 s (the database service probes it every second
        /// while the pool is idle).
        public var databaseMaximumAge: Duration = .seconds(5)

        /// What readiness promises to answer within; the Kubernetes probes' `timeoutSeconds`
        /// (1) leave it a margin of two. Default 500 ms.
        public static let answerBudget: Duration = .milliseconds(500)

        /// The defaults.
        public init() {}
    }

    struct Status: Encodable {
        var status: String
        var checks: [String: Bool]?
        var details: [String: String]?
    }

    /// Adds the health endpoints. Live is always 200 while the process serves HTTP; ready is
    /// 200 only when migrations and topology are done, every consumer is registered, the
    /// broker is connected and the database answered recently; otherwise 503 with what is
    /// missing.
    public static func add<Context: RequestContext>(
        to router: Router<Context>, readiness: Readiness, database: PostgresClient, broker: any Broker,
        configuration: Configuration = .init(), details: @escaping @Sendable () -> [String: String] = { [:] }
    ) {
        router.get("/health/live") { _, _ in
            try JSONResponse.make(Status(status: "live", checks: nil))
        }
        router.get("/health/ready") { _, _ in
            var checks = readiness.components
            checks["database.connection"] = database.health.isHealthy(maximumAge: configuration.databaseMaximumAge)
            checks["broker.connection"] = broker.isReady
            let ready = checks.values.allSatisfy { $0 }
            // Details inform (e.g. a payment provider's circuit) without deciding readiness:
            // a pod whose provider is down still serves everything else.
            let details = details()
            return try JSONResponse.make(
                Status(status: ready ? "ready" : "not_ready", checks: checks, details: details.isEmpty ? nil : details),
                status: ready ? .ok : .serviceUnavailable)
        }
    }
}
