import ArgumentParser
import Broker
import Contracts
import Foundation

/// `mercato dlq`: what is dead-lettered, why, and sending it back.
struct DeadLetterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dlq",
        abstract: "Inspect, replay and purge dead-letter queues.",
        discussion: """
            QUEUE is a consumer queue (e.g. invoice-service.order-created) or its .dlq. Every dead
            letter carries why it is there (x-mercato-error), which service put it there, after
            how many attempts, and the exchange and routing key it was first published to.
            """,
        subcommands: [List.self, Show.self, Replay.self, Purge.self])

    static func deadLetterQueue(_ queue: String) -> String {
        queue.hasSuffix(".dlq") ? queue : QueueName.deadLetter(of: queue)
    }

    /// Every consumer queue of the topology.
    static var consumerQueues: [String] {
        Topology.mercato().queues.map(\.name).filter { !$0.hasSuffix(".dlq") && !$0.contains(".retry.") }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Dead-letter depths, or the dead letters of QUEUE.")

        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "A queue; without one, every dead-letter queue's depth.") var queue: String?
        @Option(help: "At most this many messages.") var limit = 50

        func run() async throws {
            let management = try connection.management()
            guard let queue else {
                let queues = try await management.queues()
                print("DEAD-LETTER QUEUE                              MESSAGES")
                for name in DeadLetterCommand.consumerQueues.map(DeadLetterCommand.deadLetterQueue) {
                    let depth = queues.first { $0.name == name }?.messages ?? 0
                    print("\(name.padding(toLength: 46, withPad: " ", startingAt: 0)) \(depth)")
                }
                return
            }
            let messages = try await management.peek(DeadLetterCommand.deadLetterQueue(queue), count: limit)
            print("MESSAGE ID                             TYPE              ATTEMPTS  FAILED AT                 ERROR")
            for message in messages {
                print(
                    [
                        message.messageID.padding(toLength: 38, withPad: " ", startingAt: 0),
                        message.type.padding(toLength: 17, withPad: " ", startingAt: 0),
                        message.header(FailureHeader.attemptsMade).padding(toLength: 9, withPad: " ", startingAt: 0),
                        message.header(FailureHeader.failedAt).padding(toLength: 25, withPad: " ", startingAt: 0),
                        String(message.header(FailureHeader.error).prefix(100)),
                    ].joined(separator: " "))
            }
            print("\(messages.count) message(s)")
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The dead letters of QUEUE in full: headers and body.")

        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "The queue.") var queue: String
        @Option(help: "Only the message with this id.") var id: String?
        @Option(help: "At most this many messages.") var limit = 10

        func run() async throws {
            let messages = try await connection.management().peek(DeadLetterCommand.deadLetterQueue(queue), count: id == nil ? limit : 10_000)
            let selected = messages.filter { id == nil || $0.messageID == id }.prefix(limit)
            guard !selected.isEmpty else { throw ValidationFailure("no such dead letter") }
            for message in selected {
                print("message_id: \(message.messageID)")
                print("type: \(message.type)")
                for (key, value) in message.headers.sorted(by: { $0.key < $1.key }) { print("header \(key): \(value)") }
                print("body:")
                print(message.prettyBody)
                print("")
            }
        }
    }

    struct Replay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Publish dead letters of QUEUE again to their original exchange and routing key.",
            discussion: "Each message is acknowledged in the dead-letter queue only after the broker confirmed its republishing. Consumers are idempotent, so other queues bound to the same key see a repeat, not a second effect.")

        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "The queue.") var queue: String
        @Option(help: "Only the message with this id.") var id: String?
        @Option(help: "Seconds to wait for the messages the queue holds to arrive.") var timeout = 60

        func run() async throws {
            let replayed = try await DeadLetterCommand.drain(queue, connection: connection, id: id, timeout: timeout) { delivery, broker in
                try await broker.publish(DeadLetterCommand.original(of: delivery))
            }
            print("replayed \(replayed) message(s)")
        }
    }

    struct Purge: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete dead letters of QUEUE (all, or one by id).")

        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "The queue.") var queue: String
        @Option(help: "Only the message with this id.") var id: String?
        @Option(help: "Seconds to wait for the messages the queue holds to arrive.") var timeout = 60

        func run() async throws {
            let purged = try await DeadLetterCommand.drain(queue, connection: connection, id: id, timeout: timeout) { _, _ in }
            print("purged \(purged) message(s)")
        }
    }

    /// Takes the dead letters `queue` holds (those with `id`, or all), runs `action` on each
    /// and acknowledges it; others go back to the queue untouched (``DeadLetterDrain``).
    static func drain(
        _ queue: String, connection: ConnectionOptions, id: String?, timeout: Int,
        action: @escaping (Delivery, RabbitMQBroker) async throws -> Void
    ) async throws -> Int {
        let broker = try connection.broker()
        let drain = DeadLetterDrain(queue: deadLetterQueue(queue), broker: broker, timeout: .seconds(timeout))
        return try await broker.withRunning {
            try await drain.run(select: { id == nil || $0.properties.messageID == id }, action: { try await action($0, broker) }).handled
        }
    }

    /// The dead letter as first published: original exchange and routing key, without the
    /// failure headers (so its consumer starts counting attempts afresh) but with the producer
    /// they recorded: the replay is published as the operator, whom consumers trust to say
    /// who produced the event first (``FailureHeader/producer``).
    static func original(of delivery: Delivery) throws -> OutboundMessage {
        var properties = delivery.properties
        guard let exchange = properties.headers[FailureHeader.originalExchange]?.stringValue,
            let routingKey = properties.headers[FailureHeader.originalRoutingKey]?.stringValue
        else {
            throw ValidationFailure("message \(properties.messageID ?? "?") has no x-original-exchange header; cannot tell where it came from")
        }
        for key in properties.headers.keys where key != FailureHeader.producer && (key.hasPrefix("x-mercato-") || key.hasPrefix("x-original-") || key == "x-death") {
            properties.headers[key] = nil
        }
        return OutboundMessage(exchange: exchange, routingKey: routingKey, properties: properties, body: delivery.body)
    }
}
