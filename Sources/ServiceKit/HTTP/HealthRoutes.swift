public import Broker
public import Hummingbird
public import Postgres

/// `GET /health/live` and `GET /health/ready`.
public enum HealthRoutes {
    struct Status: Encodable {
        var status: String
        var checks: [String: Bool]?
    }

    /// Adds the health endpoints. Live is always 200 while the process serves HTTP; ready is
    /// 200 only when the database answers, the broker is connected with every consumer
    /// registered, and migrations and topology are done; otherwise 503 with what is missing.
    public static func add<Context: RequestContext>(
        to router: Router<Context>, readiness: Readiness, database: PostgresClient, broker: any Broker
    ) {
        router.get("/health/live") { _, _ in
            try JSONResponse.make(Status(status: "live", checks: nil))
        }
        router.get("/health/ready") { _, _ in
            var checks = readiness.components
            async let databaseAnswers = database.isReady()
            async let brokerConnected = broker.isReady()
            checks["database.connection"] = await databaseAnswers
            checks["broker.connection"] = await brokerConnected
            let ready = checks.values.allSatisfy { $0 }
            return try JSONResponse.make(
                Status(status: ready ? "ready" : "not_ready", checks: checks), status: ready ? .ok : .serviceUnavailable)
        }
    }
}
