import ArgumentParser
import Broker
import Contracts
import Foundation

/// `mercato bench broker`: `RabbitMQBroker` against raw rabbitmq-c, same workloads, one run.
struct BrokerBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "broker",
        abstract: "Publish-with-confirms and consume throughput of RabbitMQBroker beside raw rabbitmq-c.",
        discussion: """
            Each workload runs alternately through RabbitMQBroker and through
            benchmarks/amqp-baseline.c (a small C program linked directly against rabbitmq-c),
            --rounds times, on a fresh durable queue each time; the median of each is printed
            with their ratio. Publishing: persistent, mandatory messages with publisher
            confirms, in pipelined batches of 1, 100 and 1000. Consuming: prefetch 100 and 1000,
            acknowledged with `multiple` every 50 / 100 deliveries.
            """)

    @OptionGroup var connection: ConnectionOptions
    @Option(help: "The compiled C baseline (default: compile benchmarks/amqp-baseline.c with cc into .build/).")
    var baseline: String?
    @Option(help: "Messages per batched workload.") var messages = 20_000
    @Option(help: "Messages for the batch-size-1 workload (confirm each message).") var singleMessages = 2_000
    @Option(help: "Body size in bytes.") var size = 256
    @Option(help: "Runs of each workload per implementation.") var rounds = 3
    @Option(help: "Only the workloads whose name contains this text.") var only: String?
    @Flag(help: "Print the result as JSON.") var json = false

    struct Workload {
        var name: String
        var kind: Kind
        var count: Int

        enum Kind {
            case publish(batch: Int)
            case consume(prefetch: Int, ackEvery: Int)
        }
    }

    func run() async throws {
        let baselinePath = try baseline ?? Self.compileBaseline()
        let broker = try connection.broker()
        try await broker.withRunning { try await run(broker, baselinePath: baselinePath) }
    }

    private func run(_ broker: RabbitMQBroker, baselinePath: String) async throws {
        let management = try connection.management()
        let configuration = try RabbitMQBroker.Configuration(url: connection.amqpURL)
        let workloads = [
            Workload(name: "publish, confirm each (batch 1)", kind: .publish(batch: 1), count: singleMessages),
            Workload(name: "publish, batch 100", kind: .publish(batch: 100), count: messages),
            Workload(name: "publish, batch 1000", kind: .publish(batch: 1000), count: messages),
            Workload(name: "consume, prefetch 100", kind: .consume(prefetch: 100, ackEvery: 50), count: messages),
            Workload(name: "consume, prefetch 1000", kind: .consume(prefetch: 1000, ackEvery: 100), count: messages),
        ]
        var rows: [(name: String, swift: Double, c: Double)] = []
        for workload in workloads where only.map({ workload.name.contains($0) }) ?? true {
            var swiftRates: [Double] = []
            var cRates: [Double] = []
            for round in 0..<rounds {
                for useC in [round % 2 == 1, round % 2 == 0] {
                    let queue = "mercato.bench.\(UUID().uuidString.prefix(8).lowercased())"
                    try await management.declareQueue(queue, expiresAfter: .seconds(60))
                    if case .consume = workload.kind {
                        let all = messages(workload.count, to: queue)
                        for start in stride(from: 0, to: all.count, by: 1000) {
                            try await broker.publish(Array(all[start..<min(start + 1000, all.count)]))
                        }
                    }
                    let rate: Double
                    do {
                        rate =
                            useC
                            ? try runBaseline(baselinePath, configuration, queue: queue, workload)
                            : try await runSwift(broker, queue: queue, workload)
                    } catch {
                        try? await management.deleteQueue(queue)
                        throw error
                    }
                    if useC { cRates.append(rate) } else { swiftRates.append(rate) }
                    try await management.deleteQueue(queue)
                }
            }
            rows.append((workload.name, Self.median(swiftRates), Self.median(cRates)))
            if !json { FileHandle.standardError.write(Data("bench: \(workload.name) done\n".utf8)) }
        }
        print(json ? Self.json(rows) : Self.table(rows, size: size))
    }

    private func messages(_ count: Int, to queue: String) -> [OutboundMessage] {
        let body = Data(repeating: UInt8(ascii: "x"), count: size)
        return (0..<count).map { index in
            OutboundMessage(
                exchange: "", routingKey: queue,
                properties: MessageProperties(
                    contentType: "application/octet-stream", messageID: "bench-\(index)", type: "bench",
                    appID: "mercato-bench", timestamp: Date()),
                body: body)
        }
    }

    private func runSwift(_ broker: RabbitMQBroker, queue: String, _ workload: Workload) async throws -> Double {
        switch workload.kind {
        case .publish(let batch):
            let all = messages(workload.count, to: queue)
            let start = ContinuousClock.now
            var index = 0
            while index < all.count {
                let end = min(index + batch, all.count)
                if batch == 1 {
                    try await broker.publish(all[index])
                } else {
                    try await broker.publish(Array(all[index..<end]))
                }
                index = end
            }
            return Double(workload.count) / (ContinuousClock.now - start).seconds
        case .consume(let prefetch, let ackEvery):
            let consumer = try await broker.consume(queue: queue, prefetch: prefetch)
            var received = 0
            var unacknowledged = 0
            var start: ContinuousClock.Instant?
            while received < workload.count {
                let batch = await consumer.next(max: workload.count - received)
                guard let last = batch.last else { throw ValidationFailure("the consumer of \(queue) ended early") }
                if start == nil { start = .now }
                received += batch.count
                unacknowledged += batch.count
                if unacknowledged >= ackEvery || received == workload.count {
                    try await last.ack(multiple: true)
                    unacknowledged = 0
                }
            }
            let elapsed = ContinuousClock.now - start!
            await consumer.cancel()
            return Double(workload.count - 1) / elapsed.seconds
        }
    }

    private func runBaseline(
        _ path: String, _ configuration: RabbitMQBroker.Configuration, queue: String, _ workload: Workload
    ) throws -> Double {
        let connection = [
            configuration.host, String(configuration.port), configuration.username, configuration.password,
            configuration.virtualHost, queue,
        ]
        let arguments: [String] =
            switch workload.kind {
            case .publish(let batch): ["publish"] + connection + [String(batch), String(workload.count), String(size)]
            case .consume(let prefetch, let ackEvery):
                ["consume"] + connection + [String(prefetch), String(workload.count), String(ackEvery)]
            }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        guard process.terminationStatus == 0,
            let value = text.split(separator: "=").last.flatMap({
                Double($0.trimmingCharacters(in: .whitespacesAndNewlines))
            })
        else { throw ValidationFailure("the C baseline failed (\(process.terminationStatus)): \(text)") }
        return value
    }

    /// Compiles benchmarks/amqp-baseline.c (found from the current directory) into .build/.
    static func compileBaseline() throws -> String {
        let source = "benchmarks/amqp-baseline.c"
        guard FileManager.default.fileExists(atPath: source) else {
            throw ValidationFailure("run from the repository root, or pass --baseline with a compiled \(source)")
        }
        let output = ".build/amqp-baseline"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["cc", "-O2", "-o", output, source, "-lrabbitmq"]
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw ValidationFailure("cc \(source) failed") }
        return output
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
    }

    static func table(_ rows: [(name: String, swift: Double, c: Double)], size: Int) -> String {
        var lines = [
            "mercato bench broker: persistent \(size)-byte messages, durable classic queue, medians",
            "| Workload | RabbitMQBroker (msgs/s) | raw rabbitmq-c (msgs/s) | Ratio |",
            "|---|---:|---:|---:|",
        ]
        for row in rows {
            lines.append(
                String(
                    format: "| %@ | %.0f | %.0f | %.2f |", row.name, row.swift, row.c, row.c > 0 ? row.swift / row.c : 0
                ))
        }
        return lines.joined(separator: "\n")
    }

    static func json(_ rows: [(name: String, swift: Double, c: Double)]) -> String {
        let objects = rows.map {
            ["workload": $0.name, "swift": $0.swift, "c": $0.c, "ratio": $0.c > 0 ? $0.swift / $0.c : 0]
                as [String: Any]
        }
        let data =
            (try? JSONSerialization.data(withJSONObject: objects, options: [.prettyPrinted, .sortedKeys])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }
}
