import Foundation

extension RabbitMQBroker {
    /// How to reach RabbitMQ and how patiently to treat it.
    public struct Configuration: Sendable {
        /// Broker host. Default `127.0.0.1`.
        public var host: String = "127.0.0.1"
        /// AMQP port. Default 5672.
        public var port: Int = 5672
        /// User name. Default `guest` (accepted by RabbitMQ from loopback only).
        public var username: String = "guest"
        /// Password. Default `guest`.
        public var password: String = "guest"
        /// Virtual host. Default `/`.
        public var virtualHost: String = "/"
        /// TLS (`amqps://`, whose default port is 5671): the connection is encrypted and the
        /// broker's certificate must be valid for ``host`` and chain to a CA in ``caFile``;
        /// a failed check is a failed connect, never a plain-text fallback. Default off.
        public var tls = false
        /// The PEM file of the CA the broker's certificate must chain to, with ``tls``.
        /// Default: the system's bundle, `/etc/ssl/certs/ca-certificates.crt`.
        public var caFile: String? = "/etc/ssl/certs/ca-certificates.crt"
        /// Shown as the connection's name in the management UI, e.g. the service name.
        public var connectionName: String = "mercato"
        /// Off only in tests that play a forger: publishes then keep the `user_id` they were
        /// given, which RabbitMQ must refuse when it is not the connection's user.
        var stampsUserID = true
        /// Heartbeat interval negotiated with the broker; a peer silent for two intervals is
        /// considered dead. Default 10 s.
        public var heartbeat: Duration = .seconds(10)
        /// Timeout for TCP connect and the AMQP handshake. Default 5 s.
        public var connectTimeout: Duration = .seconds(5)
        /// Timeout for a synchronous AMQP method (declare, qos, consume, close). Default 15 s.
        public var rpcTimeout: Duration = .seconds(15)
        /// How long a publish may wait for its confirm, across reconnections, before it fails
        /// with ``BrokerError/Code/timeout``. Default 30 s.
        public var publishTimeout: Duration = .seconds(30)
        /// First delay before reconnecting; doubles per failed attempt. Default 100 ms.
        public var reconnectInitialDelay: Duration = .milliseconds(100)
        /// Longest delay between reconnection attempts. Default 5 s.
        public var reconnectMaximumDelay: Duration = .seconds(5)

        /// The defaults: a local broker with the `guest` user.
        public init() {}

        /// Reads `amqp://user:password@host:port/vhost`. The vhost is percent-decoded (`%2F` is
        /// `/`); a missing one means `/`, as the AMQP URI specification says.
        public init(url: String) throws {
            guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased() else {
                throw BrokerError(.invalidConfiguration, "not a URL: \(Self.redacted(url))")
            }
            guard scheme == "amqp" || scheme == "amqps" else {
                throw BrokerError(.invalidConfiguration, "unsupported scheme \(scheme) (amqp or amqps)")
            }
            if scheme == "amqps" {
                tls = true
                port = 5671
            }
            if let host = components.host, !host.isEmpty { self.host = host }
            if let port = components.port { self.port = port }
            if let user = components.user { self.username = user.removingPercentEncoding ?? user }
            if let password = components.password { self.password = password.removingPercentEncoding ?? password }
            let path = components.percentEncodedPath
            if path.count > 1 {
                let vhost = String(path.dropFirst())
                self.virtualHost = vhost.removingPercentEncoding ?? vhost
            }
        }

        /// `url` with its password replaced by `***`, for logs and errors.
        public static func redacted(_ url: String) -> String {
            guard var components = URLComponents(string: url), components.password != nil else { return url }
            components.password = "***"
            return components.string ?? "<url>"
        }

        var endpoint: AMQPEndpoint {
            AMQPEndpoint(
                host: host, port: port, username: username, password: password, virtualHost: virtualHost,
                heartbeatSeconds: Int(heartbeat.components.seconds), connectTimeout: connectTimeout,
                rpcTimeout: rpcTimeout, connectionName: connectionName, tls: tls, caFile: caFile, stampsUserID: stampsUserID)
        }
    }
}
