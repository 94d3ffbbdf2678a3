import Broker
public import Hummingbird
import Logging
import Postgres
public import ServiceLifecycle

/// A service built and not yet running: its complete HTTP stack (every middleware, health,
/// metrics, the OpenAPI document and the service's own routes) and the services it runs,
/// dependencies first. ``run()`` serves it until SIGTERM or SIGINT; tests send requests to
/// ``responder`` in process, through exactly what a client reaches over the network.
public struct ServiceApplication: Sendable {
    /// The router, built: every request the server accepts goes through it.
    public let responder: RouterResponder<MercatoRequestContext>
    /// The services the application runs, in start order (`RuntimeServices`); HTTP comes
    /// after them and stops first.
    public let services: [any Service]
    let configuration: ServiceConfiguration
    let logger: Logger

    /// Serves HTTP and runs ``services`` until SIGTERM or SIGINT, then stops gracefully.
    ///
    /// Start-up never fails for an unreachable dependency: the HTTP server answers at once
    /// (live, but not ready), while the database and broker are retried in the background.
    public func run() async throws {
        // The idle timeout (Hummingbird's HTTPConnectionStateHandler) counts from the last
        // request part read or response finished, and never fires while a response is being
        // written: it closes silent and half-sent connections, not long responses.
        let idleTimeout = configuration.httpIdleTimeout.components
        let app = Application(
            responder: responder,
            server: .http1(configuration: .init(idleTimeout: .seconds(idleTimeout.seconds))),
            configuration: .init(
                address: .hostname("0.0.0.0", port: configuration.port), serverName: configuration.serviceName),
            services: services,
            logger: logger)
        logger.info(
            "starting",
            metadata: [
                "http.port": "\(configuration.port)",
                "db.url": "\(PostgresClient.Configuration.redacted(configuration.databaseURL))",
                "amqp.url": "\(RabbitMQBroker.Configuration.redacted(configuration.amqpURL))",
            ])
        try await app.runService()
    }
}
