import Foundation

extension RabbitMQBroker {
    /// How to reach RabbitMQ and how patiently to treat it.
    public struct Configuration: Sendable {
        /// One node of the broker: where a connection may be opened.
        public struct Node: Sendable, Hashable, CustomStringConvertible {
            /// Host name or address.
            public var host: String
            /// AMQP port.
            public var port: Int

            /// Creates a node address.
            public init(host: String, port: Int) {
                self.host = host
                self.port = port
            }

            public var description: String { "\(host):\(port)" }
        }

        /// The broker's nodes: one, or every node of a cluster. Each connection starts at one
        /// picked at random (so replicas spread over the cluster) and, whenever it loses its
        /// node, reconnects to the next in the list. At least one. Default `127.0.0.1:5672`.
        public var nodes: [Node] = [Node(host: "127.0.0.1", port: 5672)]
        /// The first node's host (the only one's, on a single node).
        public var host: String {
            get { nodes[0].host }
            set { nodes[0].host = newValue }
        }
        /// The first node's AMQP port. Default 5672.
        public var port: Int {
            get { nodes[0].port }
            set { nodes[0].port = newValue }
        }
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
        ///
        /// A cluster is named by listing its nodes, either in one URL
        /// (`amqp://user:password@node1:5672,node2:5672,node3/vhost`) or as URLs separated by
        /// commas (`amqp://u:p@node1/vhost,amqp://u:p@node2/vhost`); the user, password, vhost
        /// and TLS of the first apply to all.
        public init(url: String) throws {
            let urls = try Self.splitNodes(url)
            try self.init(single: urls[0])
            var nodes = self.nodes
            for other in urls.dropFirst() {
                let node = try Configuration(single: other)
                guard node.tls == tls else {
                    throw BrokerError(.invalidConfiguration, "the nodes of \(Self.redacted(url)) mix amqp and amqps")
                }
                nodes.append(contentsOf: node.nodes)
            }
            self.nodes = nodes
        }

        /// One URL per node: `url` itself, or what its comma-separated host list or URL list
        /// stands for.
        static func splitNodes(_ url: String) throws -> [String] {
            let pieces = url.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            guard pieces.count > 1 else { return [url] }
            if pieces.dropFirst().allSatisfy({ $0.contains("://") }) { return pieces }
            // One URL with a host list: scheme://[userinfo@]host1[:port],host2[:port]…[/vhost]
            // No URL in these errors: redacted(_:) calls this function.
            guard let schemeEnd = url.range(of: "://") else {
                throw BrokerError(.invalidConfiguration, "a list of broker nodes that is not a URL")
            }
            let afterScheme = url[schemeEnd.upperBound...]
            let authorityEnd = afterScheme.firstIndex { $0 == "/" || $0 == "?" } ?? afterScheme.endIndex
            let authority = afterScheme[..<authorityEnd]
            let rest = afterScheme[authorityEnd...]
            let userInfo = authority.lastIndex(of: "@").map { authority[...$0] } ?? ""
            let hosts = authority[
                (authority.lastIndex(of: "@").map { authority.index(after: $0) } ?? authority.startIndex)...]
            let prefix = url[..<schemeEnd.upperBound]
            return try hosts.split(separator: ",", omittingEmptySubsequences: false).map { host in
                guard !host.isEmpty else {
                    throw BrokerError(.invalidConfiguration, "an empty host in the list of broker nodes")
                }
                return "\(prefix)\(userInfo)\(host)\(rest)"
            }
        }

        private init(single url: String) throws {
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
            if url.contains(","), let nodes = try? splitNodes(url), nodes.count > 1 {
                return nodes.map(redacted).joined(separator: ",")
            }
            guard var components = URLComponents(string: url), components.password != nil else { return url }
            components.password = "***"
            return components.string ?? "<url>"
        }

        /// How to connect to `node`.
        func endpoint(_ node: Node) -> AMQPEndpoint {
            AMQPEndpoint(
                host: node.host, port: node.port, username: username, password: password, virtualHost: virtualHost,
                heartbeatSeconds: Int(heartbeat.components.seconds), connectTimeout: connectTimeout,
                rpcTimeout: rpcTimeout, connectionName: connectionName, tls: tls, caFile: caFile,
                stampsUserID: stampsUserID)
        }
    }
}
