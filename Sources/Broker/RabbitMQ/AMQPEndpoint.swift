/// Where and how to connect, resolved from ``RabbitMQBroker/Configuration``.
struct AMQPEndpoint: Sendable {
    var host: String
    var port: Int
    var username: String
    var password: String
    var virtualHost: String
    var heartbeatSeconds: Int
    var connectTimeout: Duration
    var rpcTimeout: Duration
    var connectionName: String
    /// TLS with peer and host name verification against ``caFile``.
    var tls: Bool
    var caFile: String?
    /// Whether publishes carry ``username`` as `user_id` (always, outside tests).
    var stampsUserID = true
}
