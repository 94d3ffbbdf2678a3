internal import CRabbitMQ
import Foundation

/// Swift values to rabbitmq-c's field tables and message properties and back. The C
/// structures built here live in the connection's scratch pool until the call that uses
/// them returns.
extension AMQPConnectionHandle {
    /// `text` copied into the scratch pool, valid until the pool is recycled.
    func bytes(_ text: String) -> amqp_bytes_t {
        var utf8 = Array(text.utf8)
        return bytes(&utf8)
    }

    func bytes(_ raw: inout [UInt8]) -> amqp_bytes_t {
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

    func makeTable(_ entries: [String: HeaderValue]) -> amqp_table_t {
        guard !entries.isEmpty else { return amqp_empty_table }
        let storage = amqp_pool_alloc(&scratch, MemoryLayout<amqp_table_entry_t>.stride * entries.count)!
            .bindMemory(to: amqp_table_entry_t.self, capacity: entries.count)
        for (index, (key, value)) in entries.sorted(by: { $0.key < $1.key }).enumerated() {
            (storage + index).initialize(to: amqp_table_entry_t(key: bytes(key), value: makeField(value)))
        }
        return amqp_table_t(num_entries: Int32(entries.count), entries: storage)
    }

    func makeField(_ value: HeaderValue) -> amqp_field_value_t {
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

    func makeProperties(_ properties: MessageProperties) -> amqp_basic_properties_t {
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
        if let value = properties.userID {
            flags |= UInt32(AMQP_BASIC_USER_ID_FLAG)
            result.user_id = bytes(value)
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
            userID: has(AMQP_BASIC_USER_ID_FLAG) ? string(properties.user_id) : nil,
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
