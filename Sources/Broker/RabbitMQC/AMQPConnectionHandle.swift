internal import CRabbitMQ
import Foundation

/// One rabbitmq-c connection: every rabbitmq-c call Mercato makes goes through this type —
/// here the connection, its channels, topology and messages; frame decoding in
/// `AMQPConnectionHandle+Frames.swift`, field-table and property coding in
/// `AMQPConnectionHandle+Fields.swift` — and every C status becomes a ``BrokerError`` here.
///
/// `@unchecked Sendable` because a rabbitmq-c connection must only be used by one thread: the
/// handle is created, used and destroyed by a single ``RabbitMQConnection`` actor, which runs
/// on its own `IOThreadExecutor` thread. Nothing else ever holds it.
final class AMQPConnectionHandle: @unchecked Sendable {
    /// The connection. Used by this type's extensions (frame decoding, field coding) only.
    let state: amqp_connection_state_t
    /// Scratch memory for the C structures of one call (tables, properties); recycled after
    /// each call so publishing allocates nothing per message once warm.
    var scratch = amqp_pool_t()
    private var destroyed = false
    /// The user logged in as: every publish carries it as `user_id`.
    private let userID: String
    private let stampsUserID: Bool

    /// Opens a TCP connection and logs in. Throws ``BrokerError/Code/connectionFailed``.
    init(endpoint: AMQPEndpoint) throws {
        self.userID = endpoint.username
        self.stampsUserID = endpoint.stampsUserID
        guard let state = amqp_new_connection() else {
            throw BrokerError(.connectionFailed, "amqp_new_connection returned NULL")
        }
        self.state = state
        init_amqp_pool(&scratch, 4096)
        do {
            try open(endpoint)
        } catch {
            destroy()
            throw error
        }
    }

    /// A TLS socket that verifies the broker: its certificate must chain to the configured CA
    /// and name the host connected to. A failed check fails the connect (and is retried like
    /// any unreachable broker), it never falls back to plain text.
    private func tlsSocket(_ endpoint: AMQPEndpoint) throws -> OpaquePointer? {
        guard let socket = amqp_ssl_socket_new(state) else {
            throw BrokerError(.connectionFailed, "amqp_ssl_socket_new returned NULL")
        }
        amqp_ssl_socket_set_verify_peer(socket, 1)
        amqp_ssl_socket_set_verify_hostname(socket, 1)
        if let caFile = endpoint.caFile {
            let status = amqp_ssl_socket_set_cacert(socket, caFile)
            guard status == AMQP_STATUS_OK.rawValue else {
                throw BrokerError(.invalidConfiguration, "cannot load the CA file \(caFile): \(Self.describe(status))")
            }
        }
        return socket
    }

    deinit {
        destroy()
        empty_amqp_pool(&scratch)
    }

    private func open(_ endpoint: AMQPEndpoint) throws {
        let socket = try endpoint.tls ? tlsSocket(endpoint) : amqp_tcp_socket_new(state)
        guard let socket else {
            throw BrokerError(.connectionFailed, "amqp_tcp_socket_new returned NULL")
        }
        var connectTimeout = timeval(endpoint.connectTimeout)
        let status = amqp_socket_open_noblock(socket, endpoint.host, Int32(endpoint.port), &connectTimeout)
        guard status == AMQP_STATUS_OK.rawValue else {
            throw BrokerError(
                .connectionFailed, "cannot connect to \(endpoint.host):\(endpoint.port): \(Self.describe(status))")
        }
        var handshakeTimeout = timeval(endpoint.connectTimeout)
        _ = amqp_set_handshake_timeout(state, &handshakeTimeout)
        var rpcTimeout = timeval(endpoint.rpcTimeout)
        _ = amqp_set_rpc_timeout(state, &rpcTimeout)

        defer { recycle_amqp_pool(&scratch) }
        // connection_name shows in the management UI; the capabilities tell the broker we
        // handle consumer cancellation and flow-control notifications.
        var properties = makeTable([
            "connection_name": .string(endpoint.connectionName),
            "product": "Mercato",
            "capabilities": .table([
                "consumer_cancel_notify": true,
                "connection.blocked": true,
                "publisher_confirms": true,
                "basic.nack": true,
                "authentication_failure_close": true,
            ]),
        ])
        let reply = mercato_amqp_login_plain(
            state, endpoint.virtualHost, 0, 131_072, Int32(endpoint.heartbeatSeconds), &properties,
            endpoint.username, endpoint.password)
        do {
            try check(reply, "login")
        } catch var error as BrokerError {
            error.code = .connectionFailed
            throw error
        }
    }

    /// The socket, for waiting until it is readable.
    var socketDescriptor: Int32 { amqp_get_sockfd(state) }

    /// Whether frames are already buffered, so waiting on the socket would be wrong.
    var hasBufferedInput: Bool {
        amqp_frames_enqueued(state) != 0 || amqp_data_in_buffer(state) != 0
    }

    // MARK: Channels and topology

    /// Opens `channel`.
    func openChannel(_ channel: UInt16) throws {
        _ = amqp_channel_open(state, channel)
        try check(amqp_get_rpc_reply(state), "channel.open", channel: channel)
    }

    /// Puts `channel` in publisher-confirm mode; delivery tags then start at 1.
    func enableConfirms(on channel: UInt16) throws {
        _ = amqp_confirm_select(state, channel)
        try check(amqp_get_rpc_reply(state), "confirm.select", channel: channel)
    }

    /// Declares `exchange`.
    func declare(_ exchange: Topology.Exchange, on channel: UInt16) throws {
        defer { recycle_amqp_pool(&scratch) }
        _ = amqp_exchange_declare(
            state, channel, bytes(exchange.name), bytes(exchange.kind.rawValue), 0,
            exchange.durable ? 1 : 0, exchange.autoDelete ? 1 : 0, 0, amqp_empty_table)
        try check(amqp_get_rpc_reply(state), "exchange.declare \(exchange.name)", channel: channel)
    }

    /// Declares `queue` with its arguments.
    func declare(_ queue: Topology.Queue, on channel: UInt16) throws {
        defer { recycle_amqp_pool(&scratch) }
        let arguments = makeTable(queue.arguments.fieldTable)
        _ = amqp_queue_declare(
            state, channel, bytes(queue.name), 0, queue.durable ? 1 : 0, 0, queue.autoDelete ? 1 : 0, arguments)
        try check(amqp_get_rpc_reply(state), "queue.declare \(queue.name)", channel: channel)
    }

    /// Asks for a queue's message and consumer counts without declaring it (passive); a
    /// missing queue closes `channel` with 404.
    func inspect(queue: String, on channel: UInt16) throws -> (messages: UInt32, consumers: UInt32) {
        defer { recycle_amqp_pool(&scratch) }
        let ok = amqp_queue_declare(state, channel, bytes(queue), 1, 0, 0, 0, amqp_empty_table)
        try check(amqp_get_rpc_reply(state), "queue.declare (passive) \(queue)", channel: channel)
        guard let ok else { throw BrokerError(.protocolError, "queue.declare (passive) \(queue): no reply") }
        return (ok.pointee.message_count, ok.pointee.consumer_count)
    }

    /// Binds a queue to an exchange.
    func bind(_ binding: Topology.Binding, on channel: UInt16) throws {
        defer { recycle_amqp_pool(&scratch) }
        _ = amqp_queue_bind(
            state, channel, bytes(binding.queue), bytes(binding.exchange), bytes(binding.routingKey), amqp_empty_table)
        try check(amqp_get_rpc_reply(state), "queue.bind \(binding.queue) to \(binding.exchange)", channel: channel)
    }

    /// Deletes a queue (tests and the operator CLI).
    func deleteQueue(_ name: String, on channel: UInt16) throws {
        defer { recycle_amqp_pool(&scratch) }
        _ = amqp_queue_delete(state, channel, bytes(name), 0, 0)
        try check(amqp_get_rpc_reply(state), "queue.delete \(name)", channel: channel)
    }

    /// Limits unacknowledged deliveries on `channel` (per consumer, as quorum queues need).
    func setPrefetch(_ count: UInt16, on channel: UInt16) throws {
        _ = amqp_basic_qos(state, channel, 0, count, 0)
        try check(amqp_get_rpc_reply(state), "basic.qos", channel: channel)
    }

    /// Starts a consumer with manual acknowledgements.
    func consume(queue: String, consumerTag: String, on channel: UInt16) throws {
        defer { recycle_amqp_pool(&scratch) }
        _ = amqp_basic_consume(state, channel, bytes(queue), bytes(consumerTag), 0, 0, 0, amqp_empty_table)
        try check(amqp_get_rpc_reply(state), "basic.consume \(queue)", channel: channel)
    }

    /// Stops a consumer; its unacknowledged deliveries stay with the channel until it closes.
    func cancel(consumerTag: String, on channel: UInt16) throws {
        defer { recycle_amqp_pool(&scratch) }
        _ = amqp_basic_cancel(state, channel, bytes(consumerTag))
        try check(amqp_get_rpc_reply(state), "basic.cancel", channel: channel)
    }

    /// Closes a channel; the broker requeues its unacknowledged deliveries.
    func closeChannel(_ channel: UInt16) throws {
        try check(amqp_channel_close(state, channel, AMQP_REPLY_SUCCESS), "channel.close", channel: channel)
    }

    // MARK: Messages

    /// Writes one publish (method, header and body frames) to the socket. It does not wait for
    /// the confirm: those arrive later as ``AMQPEvent/ack(channel:deliveryTag:multiple:)``.
    func publish(_ message: OutboundMessage, mandatory: Bool, on channel: UInt16) throws {
        defer { recycle_amqp_pool(&scratch) }
        var stamped = message.properties
        // Always the connection's own user: RabbitMQ checks it, so consumers can trust it.
        if stampsUserID { stamped.userID = userID }
        var properties = makeProperties(stamped)
        let status = message.body.withUnsafeBytes { body in
            amqp_basic_publish(
                state, channel, bytes(message.exchange), bytes(message.routingKey), mandatory ? 1 : 0, 0,
                &properties, amqp_bytes_t(len: body.count, bytes: UnsafeMutableRawPointer(mutating: body.baseAddress)))
        }
        try check(status: status, "basic.publish")
    }

    /// Acknowledges, negatively acknowledges or rejects a delivery.
    func settle(_ settlement: Settlement, deliveryTag: UInt64, on channel: UInt16) throws {
        let status: Int32
        switch settlement {
        case .ack(let multiple):
            status = amqp_basic_ack(state, channel, deliveryTag, multiple ? 1 : 0)
        case .nack(let multiple, let requeue):
            status = amqp_basic_nack(state, channel, deliveryTag, multiple ? 1 : 0, requeue ? 1 : 0)
        case .reject(let requeue):
            status = amqp_basic_reject(state, channel, deliveryTag, requeue ? 1 : 0)
        }
        try check(status: status, "basic.ack/nack/reject")
    }

    // MARK: Closing

    /// Closes the connection politely (bounded by the RPC timeout), then frees it. With
    /// `graceful: false` (the socket is already dead) it only frees.
    func close(graceful: Bool) {
        guard !destroyed else { return }
        if graceful {
            _ = amqp_connection_close(state, AMQP_REPLY_SUCCESS)
        }
        destroy()
    }

    private func destroy() {
        guard !destroyed else { return }
        destroyed = true
        amqp_destroy_connection(state)
    }

    // MARK: Status conversion

    func check(status: Int32, _ operation: String) throws {
        guard status != AMQP_STATUS_OK.rawValue else { return }
        throw BrokerError(.connectionClosed, "\(operation): \(Self.describe(status))")
    }

    /// Turns an RPC reply into a thrown error. A broker exception is acknowledged here
    /// (close-ok), as the protocol requires, before the error is thrown.
    func check(_ reply: amqp_rpc_reply_t, _ operation: String, channel: UInt16 = 0) throws {
        switch reply.reply_type {
        case AMQP_RESPONSE_NORMAL:
            return
        case AMQP_RESPONSE_LIBRARY_EXCEPTION:
            throw BrokerError(.connectionClosed, "\(operation): \(Self.describe(reply.library_error))")
        case AMQP_RESPONSE_SERVER_EXCEPTION:
            switch reply.reply.id {
            case AMQP_CHANNEL_CLOSE_METHOD:
                let close = reply.reply.decoded!.assumingMemoryBound(to: amqp_channel_close_t.self).pointee
                let text = Self.string(close.reply_text)
                var ok = amqp_channel_close_ok_t()
                _ = amqp_send_method(state, channel, AMQP_CHANNEL_CLOSE_OK_METHOD, &ok)
                throw BrokerError(.channelClosed, "\(operation): \(text)", replyCode: Int(close.reply_code))
            case AMQP_CONNECTION_CLOSE_METHOD:
                let close = reply.reply.decoded!.assumingMemoryBound(to: amqp_connection_close_t.self).pointee
                let text = Self.string(close.reply_text)
                var ok = amqp_connection_close_ok_t()
                _ = amqp_send_method(state, 0, AMQP_CONNECTION_CLOSE_OK_METHOD, &ok)
                throw BrokerError(.connectionClosed, "\(operation): \(text)", replyCode: Int(close.reply_code))
            default:
                throw BrokerError(.protocolError, "\(operation): unexpected method \(reply.reply.id)")
            }
        default:
            throw BrokerError(.protocolError, "\(operation): no reply")
        }
    }

    private static func describe(_ status: Int32) -> String {
        String(cString: amqp_error_string2(status))
    }
}
