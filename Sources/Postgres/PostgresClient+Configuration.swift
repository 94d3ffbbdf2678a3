import Foundation

extension PostgresClient {
    /// Where the database is and how the pool behaves.
    public struct Configuration: Sendable {
        /// `postgres://user[:password]@host:port/database[?param=value]`, as libpq reads it.
        public var url: String
        /// Connections kept open at most. Default 4: a PostgreSQL commit costs about a
        /// millisecond, so a handful of sessions saturates a small server.
        public var poolSize: Int = 4
        /// How long to wait for the server when connecting. Default 5 s.
        public var connectTimeout: Duration = .seconds(5)
        /// How long a caller may wait for a free pooled connection. Default 10 s.
        public var acquireTimeout: Duration = .seconds(10)
        /// Server-side limit on one statement; `nil` for none. Default 30 s.
        public var statementTimeout: Duration? = .seconds(30)
        /// Shown in `pg_stat_activity`. Default `mercato`.
        public var applicationName: String = "mercato"
        /// The least time between two `NOTIFY`s of one channel sent by
        /// ``PostgresConnection/notify(_:)``; listeners of the same client are told at once
        /// regardless. Default 100 ms.
        public var notifyInterval: Duration = .milliseconds(100)

        /// Creates a configuration; the URL must use the `postgres` or `postgresql` scheme.
        public init(url: String) throws(PostgresError) {
            guard let scheme = URLComponents(string: url)?.scheme?.lowercased(),
                scheme == "postgres" || scheme == "postgresql"
            else {
                throw PostgresError(.invalidConfiguration, "not a postgres:// URL: \(Self.redacted(url))")
            }
            self.url = url
        }

        /// `url` with its password replaced by `***`, for logs and errors.
        public static func redacted(_ url: String) -> String {
            guard var components = URLComponents(string: url), components.password != nil else { return url }
            components.password = "***"
            return components.string ?? "<url>"
        }

        /// libpq connection keywords. Sessions speak UTC and ISO dates so timestamps decode
        /// the same whatever the server's settings.
        var connectionParameters: [(String, String)] {
            // Keywords given here override the URL's, so options in the URL are kept by
            // putting them first.
            let urlOptions = URLComponents(string: url)?.queryItems?.first { $0.name == "options" }?.value
            var options =
                (urlOptions.map { $0 + " " } ?? "") + "-c DateStyle=ISO -c TimeZone=UTC -c client_encoding=UTF8"
            if let statementTimeout {
                let milliseconds =
                    statementTimeout.components.seconds * 1000
                    + statementTimeout.components.attoseconds / 1_000_000_000_000_000
                options += " -c statement_timeout=\(milliseconds)"
            }
            return [
                ("dbname", url),
                ("connect_timeout", String(max(1, connectTimeout.components.seconds))),
                ("application_name", applicationName),
                ("options", options),
            ]
        }
    }
}
