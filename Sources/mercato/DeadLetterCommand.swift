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
            QUEUE is a consumer queue (e.g. invoice-service.stock-reserved) or its .dlq. Every dead
            letter carries why it is there (x-mercato-error), which service put it there, after
            how many attempts, and the exchange and routing key it was first published to.
            What a message holds is printed with its control characters escaped (\\u{1B}).
            """,
        subcommands: [List.self, Show.self, Replay.self, Purge.self])

    static func deadLetterQueue(_ queue: String) -> String {
        queue.hasSuffix(".dlq") ? queue : QueueName.deadLetter(of: queue)
    }

    /// The consumer queue of `queue`, a consumer queue or its `.dlq`.
    static func consumerQueue(_ queue: String) -> String {
        queue.hasSuffix(".dlq") ? String(queue.dropLast(".dlq".count)) : queue
    }

    /// Whether a message's `messageID` is `id`, as given or as `list` and `show` print it
    /// (escaped): an id holding control characters can only be typed escaped.
    static func matches(_ messageID: String?, _ id: String?) -> Bool {
        guard let id else { return true }
        guard let messageID else { return false }
        return messageID == id || TerminalText.escaped(messageID) == id
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
                // Every column is the producer's or the consumer's text: escaped, then cut.
                print(
                    [
                        TerminalText.escaped(message.messageID).padding(toLength: 38, withPad: " ", startingAt: 0),
                        TerminalText.escaped(message.type).padding(toLength: 17, withPad: " ", startingAt: 0),
                        TerminalText.escaped(message.header(FailureHeader.attemptsMade)).padding(
                            toLength: 9, withPad: " ", startingAt: 0),
                        TerminalText.escaped(message.header(FailureHeader.failedAt)).padding(
                            toLength: 25, withPad: " ", startingAt: 0),
                        String(TerminalText.escaped(message.header(FailureHeader.error)).prefix(100)),
                    ].joined(separator: " "))
            }
            print("\(messages.count) message(s)")
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The dead letters of QUEUE in full: headers and body.")

        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "The queue.") var queue: String
        @Option(help: "Only the message with this id.") var id: String?
        @Option(help: "At most this many messages.") var limit = 10

        func run() async throws {
            let messages = try await connection.management().peek(
                DeadLetterCommand.deadLetterQueue(queue), count: id == nil ? limit : 10_000)
            let selected = messages.filter { DeadLetterCommand.matches($0.properties.messageID, id) }.prefix(limit)
            guard !selected.isEmpty else { throw ValidationFailure("no such dead letter") }
            for message in selected {
                print("message_id: \(TerminalText.escaped(message.messageID))")
                print("type: \(TerminalText.escaped(message.type))")
                for (key, value) in message.headers.sorted(by: { $0.key < $1.key }) {
                    print("header \(TerminalText.escaped(key)): \(TerminalText.escaped(value.description))")
                }
                print("body:")
                print(TerminalText.escaped(message.prettyBody, keepingNewlines: true))
                print("")
            }
        }
    }

    struct Replay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send dead letters of QUEUE back to QUEUE, and only there.",
            discussion: """
                Each goes back to the consumer queue it was dead-lettered from, never to an exchange its headers \
                name, and is acknowledged in the dead-letter queue only after the broker confirmed the republish. \
                It keeps the producer it recorded (x-mercato-producer) only if QUEUE's own consumer wrote it (its \
                user_id is the service's) or the broker dead-lettered it (then its user_id is the producer); any \
                other dead letter is refused, left in the dead-letter queue, and the command exits non-zero.
                """)

        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "The queue.") var queue: String
        @Option(help: "Only the message with this id.") var id: String?
        @Option(help: "Seconds to wait for the messages the queue holds to arrive.") var timeout = 60

        func run() async throws {
            let operatorUser = try RabbitMQBroker.Configuration(url: connection.amqpURL).username
            let replay = DeadLetterReplay(queue: DeadLetterCommand.consumerQueue(queue), operatorUser: operatorUser)
            let outcome = try await DeadLetterCommand.drain(queue, connection: connection, id: id, timeout: timeout) {
                delivery, broker in
                let message: OutboundMessage
                do throws(DeadLetterReplay.Refusal) {
                    message = try replay.message(properties: delivery.properties, body: delivery.body)
                } catch {
                    return .refused(error)
                }
                try await broker.publish(message)
                return .handled
            }
            print("replayed \(outcome.handled) message(s)")
            guard outcome.refused.isEmpty else {
                for refusal in outcome.refused {
                    print("refused \(TerminalText.escaped(refusal.messageID)): \(TerminalText.escaped(refusal.reason))")
                }
                // Printed before the error, which goes to standard error unbuffered
                // (every output stream: `stdout` itself is not concurrency-safe to name).
                fflush(nil)
                throw ValidationFailure(
                    "refused \(outcome.refused.count) message(s), left in \(DeadLetterCommand.deadLetterQueue(queue)): see them with `mercato dlq show`, delete them with `mercato dlq purge --id`"
                )
            }
        }
    }

    struct Purge: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete dead letters of QUEUE (all, or one by id).")

        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "The queue.") var queue: String
        @Option(help: "Only the message with this id.") var id: String?
        @Option(help: "Seconds to wait for the messages the queue holds to arrive.") var timeout = 60

        func run() async throws {
            let purged = try await DeadLetterCommand.drain(queue, connection: connection, id: id, timeout: timeout) {
                _, _ in .handled
            }
            print("purged \(purged.handled) message(s)")
        }
    }

    /// Takes the dead letters `queue` holds (those with `id`, or all), runs `action` on each
    /// and acknowledges it unless it refused it; others go back to the queue untouched
    /// (``DeadLetterDrain``).
    static func drain(
        _ queue: String, connection: ConnectionOptions, id: String?, timeout: Int,
        action: @escaping (Delivery, RabbitMQBroker) async throws -> DeadLetterDrain.Disposition
    ) async throws -> DeadLetterDrain.Outcome {
        let broker = try connection.broker()
        let drain = DeadLetterDrain(queue: deadLetterQueue(queue), broker: broker, timeout: .seconds(timeout))
        return try await broker.withRunning {
            try await drain.run(
                select: { matches($0.properties.messageID, id) }, action: { try await action($0, broker) })
        }
    }
}
