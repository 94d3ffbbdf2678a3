package import Foundation
package import ServiceKit

/// order-service's configuration: the common variables plus the URLs of customer-service and
/// catalog-service.
package struct OrderServiceConfiguration: Sendable {
    /// `PORT` (default 8080), `AMQP_URL`, `DATABASE_URL` (default database `orders`), ….
    package var service: ServiceConfiguration
    /// `CUSTOMER_SERVICE_URL`: asked about customers the replica lacks. Default
    /// `http://127.0.0.1:8081`.
    package var customerServiceURL: URL
    /// `CUSTOMER_LOOKUP_TIMEOUT_MS`: how long to wait for it. Default 2000.
    package var customerLookupTimeout: Duration
    /// `CATALOG_SERVICE_URL`: asked about products the replica lacks. Default
    /// `http://127.0.0.1:8083`.
    package var catalogServiceURL: URL
    /// `CATALOG_LOOKUP_TIMEOUT_MS`: how long to wait for it. Default 2000.
    package var catalogLookupTimeout: Duration
    /// `ORDER_STREAM_WINDOW`: the changes the live stream keeps in memory (see
    /// ``OrderChangeFeed/Configuration``).
    package var feed: OrderChangeFeed.Configuration
    /// `ORDER_STREAM_HEARTBEAT_SECONDS`: a comment on an idle stream this often. Default 15.
    package var streamHeartbeat: Duration
    /// `ORDER_STREAM_MAX_PER_CALLER`: `GET /orders/stream`s one token subject may have open at
    /// once; one more is a 429. Default 4.
    package var streamsPerCaller: Int
    /// `ADMISSION_TARGET_MS`: the order→invoice time above which new orders are shed (see
    /// ``OrderAdmission/Configuration``). Default 1000; 0 turns shedding off.
    /// `ADMISSION_MIN_TRIPS`: the fewest trips an interval needs to be judged. Default 20.
    package var admission: OrderAdmission.Configuration

    /// Reads the environment.
    package init(environment: EnvironmentReader = EnvironmentReader()) throws {
        service = try ServiceConfiguration(
            serviceName: "order-service", defaultPort: 8080, defaultDatabase: "orders", environment: environment)
        customerServiceURL = try Self.url("CUSTOMER_SERVICE_URL", default: "http://127.0.0.1:8081", in: environment)
        customerLookupTimeout = .milliseconds(
            try environment.int("CUSTOMER_LOOKUP_TIMEOUT_MS", default: 2000, in: 50...60_000))
        catalogServiceURL = try Self.url("CATALOG_SERVICE_URL", default: "http://127.0.0.1:8083", in: environment)
        catalogLookupTimeout = .milliseconds(
            try environment.int("CATALOG_LOOKUP_TIMEOUT_MS", default: 2000, in: 50...60_000))
        feed = OrderChangeFeed.Configuration()
        feed.window = try environment.int("ORDER_STREAM_WINDOW", default: feed.window, in: 100...1_000_000)
        streamHeartbeat = .seconds(try environment.int("ORDER_STREAM_HEARTBEAT_SECONDS", default: 15, in: 1...3600))
        streamsPerCaller = try environment.int("ORDER_STREAM_MAX_PER_CALLER", default: 4, in: 1...10_000)
        admission = OrderAdmission.Configuration()
        admission.target = .milliseconds(try environment.int("ADMISSION_TARGET_MS", default: 1000, in: 0...600_000))
        admission.minimumTrips = try environment.int(
            "ADMISSION_MIN_TRIPS", default: admission.minimumTrips, in: 1...100_000)
    }

    private static func url(_ variable: String, default fallback: String, in environment: EnvironmentReader) throws
        -> URL
    {
        let text = environment.string(variable, default: fallback)
        guard let url = URL(string: text), url.scheme == "http" || url.scheme == "https", url.host != nil else {
            throw ConfigurationError(
                variable: variable, message: "expected an http(s) URL, got \(text.debugDescription)")
        }
        return url
    }
}
