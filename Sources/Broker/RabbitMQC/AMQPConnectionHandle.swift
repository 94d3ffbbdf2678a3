internal import CRabbitMQ
import Foundation

/// One rabbitmq-c connection: every rabbitmq-c call Mercato makes goes through this type
/// (and the table coding beside it), and every C status becomes a ``BrokerError`` here.
///
/// `@unchecked Sendable` because a rabbitmq-c connection must only be used by one thread: the
/// handle is created, used and destroyed by a single ``RabbitMQConnection`` actor, which runs
/// on its own `IOThreadExecutor` thread. Nothing else ever holds it.
final class AMQPConnectionHandle: @unchecked Sendable {
    private let state: amqp_connection_state_t
    /// Scratch memory for the C structures of one call (tables, properties); recycled after
    /// each call so publishing allocates nothing per message once warm.
    private var scratch = amqp_pool_t()
    private var destroyed = false

    /// Opens a TCP connection and logs in. Throws ``BrokerError/Code/connectionFailed``.
    init(endpoint: AMQPEndpoint) throws {
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

    deinit {
        destroy()
        empty_amqp_pool(&scratch)
    }

    private func open(_ endpoint: AMQPEndpoint) throws {
        guard let socket = amqp_tcp_socket_new(state) else {
            throw BrokerError(.connectionFailed, "amqp_tcp_socket_new returned NULL")
        }
        var connectTimeout = timeval(endpoint.connectTimeout)
        let status = amqp_socket_open_noblock(socket, endpoint.host, Int32(endpoint.port), &connectTimeout)
        guard status == AMQP_STATUS_OK.rawValue else {
            throw BrokerError(.connectionFailed, "cannot connect to \(endpoint.host):\(endpoint.port): \(Self.describe(status))")
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
        var properties = makeProperties(message.properties)
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

    /// The next frame the broker sent, decoded, without blocking; `nil` when there is none.
    /// Also sends a heartbeat when one is due and notices a missed one (rabbitmq-c services
    /// heartbeats only inside its frame-waiting calls).
    func nextEvent() throws -> AMQPEvent? {
        amqp_maybe_release_buffers(state)
        var frame = amqp_frame_t()
        var immediately = timeval(tv_sec: 0, tv_usec: 0)
        let status = amqp_simple_wait_frame_noblock(state, &frame, &immediately)
        if status == AMQP_STATUS_TIMEOUT.rawValue { return nil }
        try check(status: status, "wait for frame")
        guard frame.frame_type == UInt8(AMQP_FRAME_METHOD) else { return .ignored }
        let channel = frame.channel
        let decoded = frame.payload.method.decoded
        switch frame.payload.method.id {
        case AMQP_BASIC_ACK_METHOD:
            let ack = decoded!.assumingMemoryBound(to: amqp_basic_ack_t.self).pointee
            return .ack(channel: channel, deliveryTag: ack.delivery_tag, multiple: ack.multiple != 0)
        case AMQP_BASIC_NACK_METHOD:
            let nack = decoded!.assumingMemoryBound(to: amqp_basic_nack_t.self).pointee
            return .nack(channel: channel, deliveryTag: nack.delivery_tag, multiple: nack.multiple != 0)
        case AMQP_BASIC_RETURN_METHOD:
            let returned = decoded!.assumingMemoryBound(to: amqp_basic_return_t.self).pointee
            let replyText = Self.string(returned.reply_text)
            let exchange = Self.string(returned.exchange)
            let routingKey = Self.string(returned.routing_key)
            let (properties, _) = try readContent(on: channel)
            return .returned(
                channel: channel, replyCode: Int(returned.reply_code), replyText: replyText,
                exchange: exchange, routingKey: routingKey, properties: properties)
        case AMQP_BASIC_DELIVER_METHOD:
            let deliver = decoded!.assumingMemoryBound(to: amqp_basic_deliver_t.self).pointee
            let tag = deliver.delivery_tag
            let redelivered = deliver.redelivered != 0
            let exchange = Self.string(deliver.exchange)
            let routingKey = Self.string(deliver.routing_key)
            let (properties, body) = try readContent(on: channel)
            return .delivery(
                channel: channel,
                InboundMessage(
                    deliveryTag: tag, redelivered: redelivered, exchange: exchange, routingKey: routingKey,
                    properties: properties, body: body))
        case AMQP_CHANNEL_CLOSE_METHOD:
            let close = decoded!.assumingMemoryBound(to: amqp_channel_close_t.self).pointee
            let text = Self.string(close.reply_text)
            var ok = amqp_channel_close_ok_t()
            _ = amqp_send_method(state, channel, AMQP_CHANNEL_CLOSE_OK_METHOD, &ok)
            return .channelClosed(channel: channel, replyCode: Int(close.reply_code), replyText: text)
        case AMQP_CONNECTION_CLOSE_METHOD:
            let close = decoded!.assumingMemoryBound(to: amqp_connection_close_t.self).pointee
            let text = Self.string(close.reply_text)
            var ok = amqp_connection_close_ok_t()
            _ = amqp_send_method(state, 0, AMQP_CONNECTION_CLOSE_OK_METHOD, &ok)
            return .connectionClosed(replyCode: Int(close.reply_code), replyText: text)
        case AMQP_BASIC_CANCEL_METHOD:
            return .consumerCancelled(channel: channel)
        case AMQP_CONNECTION_BLOCKED_METHOD:
            let blocked = decoded!.assumingMemoryBound(to: amqp_connection_blocked_t.self).pointee
            return .blocked(reason: Self.string(blocked.reason))
        case AMQP_CONNECTION_UNBLOCKED_METHOD:
            return .unblocked
        default:
            return .ignored
        }
    }

    /// Reads the header and body frames that follow a `basic.deliver` or `basic.return`.
    private func readContent(on channel: UInt16) throws -> (MessageProperties, Data) {
        var message = amqp_message_t()
        let reply = amqp_read_message(state, channel, &message, 0)
        guard reply.reply_type == AMQP_RESPONSE_NORMAL else {
            try check(reply, "read message", channel: channel)
            throw BrokerError(.protocolError, "read message failed")
        }
        defer { amqp_destroy_message(&message) }
        let body = message.body.len == 0 ? Data() : Data(bytes: message.body.bytes, count: message.body.len)
        return (Self.decodeProperties(message.properties), body)
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

    private func check(status: Int32, _ operation: String) throws {
        guard status != AMQP_STATUS_OK.rawValue else { return }
        throw BrokerError(.connectionClosed, "\(operation): \(Self.describe(status))")
    }

    /// Turns an RPC reply into a thrown error. A broker exception is acknowledged here
    /// (close-ok), as the protocol requires, before the error is thrown.
    private func check(_ reply: amqp_rpc_reply_t, _ operation: String, channel: UInt16 = 0) throws {
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

    // MARK: Memory helpers

    /// `text` copied into the scratch pool, valid until the pool is recycled.
    private func bytes(_ text: String) -> amqp_bytes_t {
        var utf8 = Array(text.utf8)
        return bytes(&utf8)
    }

    private func bytes(_ raw: inout [UInt8]) -> amqp_bytes_t {
        var result = amqp_bytes_t()
        guard !raw.isEmpty else { return amqp_empty_bytes }
        amqp_pool_alloc_bytes(&scratch, raw.count, &result)
        raw.withUnsafeBytes { source in
            result.bytes.copyMemory(from: source.baseAddress!, byteCount: source.count)
        }
        return result
    }

    static func string(_ bytes: amqp_bytes_t) -> String {
        guard bytes.len > 0, let pointer = bytes.bytes else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: pointer, count: bytes.len), as: UTF8.self)
    }

    private func makeTable(_ entries: [String: HeaderValue]) -> amqp_table_t {
        guard !entries.isEmpty else { return amqp_empty_table }
        let storage = amqp_pool_alloc(&scratch, MemoryLayout<amqp_table_entry_t>.stride * entries.count)!
            .bindMemory(to: amqp_table_entry_t.self, capacity: entries.count)
        for (index, (key, value)) in entries.sorted(by: { $0.key < $1.key }).enumerated() {
            (storage + index).initialize(to: amqp_table_entry_t(key: bytes(key), value: makeField(value)))
        }
        return amqp_table_t(num_entries: Int32(entries.count), entries: storage)
    }

    private func makeField(_ value: HeaderValue) -> amqp_field_value_t {
        var field = amqp_field_value_t()
        switch value {
        case .string(let text):
            field.kind = UInt8(AMQP_FIELD_KIND_UTF8.rawValue)
            field.value.bytes = bytes(text)
        case .int(let number):
            field.kind = UInt8(AMQP_FIELD_KIND_I64.rawValue)
            field.value.i64 = number
        case .bool(let flag):
            field.kind = UInt8(AMQP_FIELD_KIND_BOOLEAN.rawValue)
            field.value.boolean = flag ? 1 : 0
        case .double(let number):
            field.kind = UInt8(AMQP_FIELD_KIND_F64.rawValue)
            field.value.f64 = number
        case .bytes(var raw):
            field.kind = UInt8(AMQP_FIELD_KIND_BYTES.rawValue)
            field.value.bytes = bytes(&raw)
        case .timestamp(let seconds):
            field.kind = UInt8(AMQP_FIELD_KIND_TIMESTAMP.rawValue)
            field.value.u64 = seconds
        case .array(let values):
            field.kind = UInt8(AMQP_FIELD_KIND_ARRAY.rawValue)
            let storage = amqp_pool_alloc(&scratch, MemoryLayout<amqp_field_value_t>.stride * max(values.count, 1))!
                .bindMemory(to: amqp_field_value_t.self, capacity: max(values.count, 1))
            for (index, element) in values.enumerated() {
                (storage + index).initialize(to: makeField(element))
            }
            field.value.array = amqp_array_t(num_entries: Int32(values.count), entries: storage)
        case .table(let table):
            field.kind = UInt8(AMQP_FIELD_KIND_TABLE.rawValue)
            field.value.table = makeTable(table)
        case .void:
            field.kind = UInt8(AMQP_FIELD_KIND_VOID.rawValue)
        }
        return field
    }

    static func decodeTable(_ table: amqp_table_t) -> [String: HeaderValue] {
        var result: [String: HeaderValue] = [:]
        guard table.num_entries > 0, let entries = table.entries else { return result }
        for index in 0..<Int(table.num_entries) {
            let entry = entries[index]
            result[string(entry.key)] = decodeField(entry.value)
        }
        return result
    }

    static func decodeField(_ field: amqp_field_value_t) -> HeaderValue {
        switch UInt32(field.kind) {
        case AMQP_FIELD_KIND_UTF8.rawValue: return .string(string(field.value.bytes))
        case AMQP_FIELD_KIND_BYTES.rawValue:
            let raw = field.value.bytes
            guard raw.len > 0, let pointer = raw.bytes else { return .bytes([]) }
            return .bytes(Array(UnsafeRawBufferPointer(start: pointer, count: raw.len)))
        case AMQP_FIELD_KIND_BOOLEAN.rawValue: return .bool(field.value.boolean != 0)
        case AMQP_FIELD_KIND_I8.rawValue: return .int(Int64(field.value.i8))
        case AMQP_FIELD_KIND_U8.rawValue: return .int(Int64(field.value.u8))
        case AMQP_FIELD_KIND_I16.rawValue: return .int(Int64(field.value.i16))
        case AMQP_FIELD_KIND_U16.rawValue: return .int(Int64(field.value.u16))
        case AMQP_FIELD_KIND_I32.rawValue: return .int(Int64(field.value.i32))
        case AMQP_FIELD_KIND_U32.rawValue: return .int(Int64(field.value.u32))
        case AMQP_FIELD_KIND_I64.rawValue: return .int(field.value.i64)
        case AMQP_FIELD_KIND_U64.rawValue: return .int(Int64(clamping: field.value.u64))
        case AMQP_FIELD_KIND_F32.rawValue: return .double(Double(field.value.f32))
        case AMQP_FIELD_KIND_F64.rawValue: return .double(field.value.f64)
        case AMQP_FIELD_KIND_TIMESTAMP.rawValue: return .timestamp(field.value.u64)
        case AMQP_FIELD_KIND_TABLE.rawValue: return .table(decodeTable(field.value.table))
        case AMQP_FIELD_KIND_ARRAY.rawValue:
            let array = field.value.array
            guard array.num_entries > 0, let entries = array.entries else { return .array([]) }
            return .array((0..<Int(array.num_entries)).map { decodeField(entries[$0]) })
        default: return .void
        }
    }

    private func makeProperties(_ properties: MessageProperties) -> amqp_basic_properties_t {
        var result = amqp_basic_properties_t()
        var flags: UInt32 = UInt32(AMQP_BASIC_DELIVERY_MODE_FLAG)
        result.delivery_mode = properties.persistent ? 2 : 1
        if let value = properties.contentType {
            flags |= UInt32(AMQP_BASIC_CONTENT_TYPE_FLAG)
            result.content_type = bytes(value)
        }
        if let value = properties.messageID {
            flags |= UInt32(AMQP_BASIC_MESSAGE_ID_FLAG)
            result.message_id = bytes(value)
        }
        if let value = properties.type {
            flags |= UInt32(AMQP_BASIC_TYPE_FLAG)
            result.type = bytes(value)
        }
        if let value = properties.appID {
            flags |= UInt32(AMQP_BASIC_APP_ID_FLAG)
            result.app_id = bytes(value)
        }
        if let value = properties.correlationID {
            flags |= UInt32(AMQP_BASIC_CORRELATION_ID_FLAG)
            result.correlation_id = bytes(value)
        }
        if let value = properties.expiration {
            flags |= UInt32(AMQP_BASIC_EXPIRATION_FLAG)
            result.expiration = bytes(value)
        }
        if let value = properties.timestamp {
            flags |= UInt32(AMQP_BASIC_TIMESTAMP_FLAG)
            result.timestamp = UInt64(max(0, value.timeIntervalSince1970))
        }
        if !properties.headers.isEmpty {
            flags |= UInt32(AMQP_BASIC_HEADERS_FLAG)
            result.headers = makeTable(properties.headers)
        }
        result._flags = flags
        return result
    }

    static func decodeProperties(_ properties: amqp_basic_properties_t) -> MessageProperties {
        let flags = properties._flags
        func has(_ flag: Int32) -> Bool { flags & UInt32(flag) != 0 }
        return MessageProperties(
            contentType: has(AMQP_BASIC_CONTENT_TYPE_FLAG) ? string(properties.content_type) : nil,
            messageID: has(AMQP_BASIC_MESSAGE_ID_FLAG) ? string(properties.message_id) : nil,
            type: has(AMQP_BASIC_TYPE_FLAG) ? string(properties.type) : nil,
            appID: has(AMQP_BASIC_APP_ID_FLAG) ? string(properties.app_id) : nil,
            timestamp: has(AMQP_BASIC_TIMESTAMP_FLAG) ? Date(timeIntervalSince1970: Double(properties.timestamp)) : nil,
            correlationID: has(AMQP_BASIC_CORRELATION_ID_FLAG) ? string(properties.correlation_id) : nil,
            expiration: has(AMQP_BASIC_EXPIRATION_FLAG) ? string(properties.expiration) : nil,
            persistent: has(AMQP_BASIC_DELIVERY_MODE_FLAG) ? properties.delivery_mode == 2 : false,
            headers: has(AMQP_BASIC_HEADERS_FLAG) ? decodeTable(properties.headers) : [:]
        )
    }
}

extension timeval {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self.init(tv_sec: Int(seconds), tv_usec: Int(attoseconds / 1_000_000_000_000))
    }
}
