internal import CRabbitMQ
import Foundation

extension AMQPConnectionHandle {
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
}
