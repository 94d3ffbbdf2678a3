import Broker
import Contracts
import Foundation

/// The live topology beside the expected one.
struct TopologyReport {
    let expected: Topology
    let exchanges: [ManagementClient.Exchange]
    let queues: [ManagementClient.Queue]
    let bindings: [ManagementClient.Binding]

    /// What is missing or different, one line each.
    var problems: [String] {
        var problems: [String] = []
        for exchange in expected.exchanges {
            guard let live = exchanges.first(where: { $0.name == exchange.name }) else {
                problems.append("missing exchange \(exchange.name) (\(exchange.kind.rawValue))")
                continue
            }
            if live.type != exchange.kind.rawValue {
                problems.append("exchange \(exchange.name) is \(live.type), expected \(exchange.kind.rawValue)")
            }
            if live.durable != exchange.durable { problems.append("exchange \(exchange.name) durable=\(live.durable)") }
        }
        for queue in expected.queues {
            guard let live = queues.first(where: { $0.name == queue.name }) else {
                problems.append("missing queue \(queue.name)")
                continue
            }
            let expectedType = queue.arguments.queueType?.rawValue ?? "classic"
            if let type = live.type, type != expectedType {
                problems.append("queue \(queue.name) is \(type), expected \(expectedType)")
            }
            if !live.durable { problems.append("queue \(queue.name) is not durable") }
            if let dlx = queue.arguments.deadLetterExchange,
                live.arguments?["x-dead-letter-exchange"]?.description != dlx
            {
                problems.append("queue \(queue.name) does not dead-letter to \(dlx)")
            }
        }
        for binding in expected.bindings
        where !bindings.contains(where: {
            $0.source == binding.exchange && $0.destination == binding.queue && $0.destinationType == "queue"
                && $0.routingKey == binding.routingKey
        }) {
            problems.append("missing binding \(binding.exchange) → \(binding.queue) (\(binding.routingKey))")
        }
        return problems
    }

    private var mercatoExchanges: [ManagementClient.Exchange] {
        exchanges.filter { !$0.name.isEmpty && !$0.name.hasPrefix("amq.") }.sorted { $0.name < $1.name }
    }

    var text: String {
        var lines: [String] = []
        lines.append("EXCHANGES")
        lines += table(
            ["name", "type", "durable"], mercatoExchanges.map { [$0.name, $0.type, $0.durable ? "yes" : "no"] })
        lines.append("")
        lines.append("QUEUES")
        lines += table(
            ["name", "type", "messages", "ready", "unacked", "consumers"],
            queues.sorted { $0.name < $1.name }.map {
                [
                    $0.name, $0.type ?? "classic", "\($0.messages ?? 0)", "\($0.messagesReady ?? 0)",
                    "\($0.messagesUnacknowledged ?? 0)", "\($0.consumers ?? 0)",
                ]
            })
        lines.append("")
        lines.append("BINDINGS")
        lines += table(
            ["exchange", "routing key", "queue"],
            bindings.filter { !$0.source.isEmpty }.sorted { ($0.source, $0.destination) < ($1.source, $1.destination) }
                .map { [$0.source, $0.routingKey, $0.destination] })
        lines.append("")
        let problems = self.problems
        if problems.isEmpty {
            lines.append("OK: every exchange, queue and binding the services declare is present.")
        } else {
            lines.append("PROBLEMS")
            lines += problems.map { "  " + $0 }
        }
        return lines.joined(separator: "\n")
    }

    var json: [String: Any] {
        [
            "exchanges": mercatoExchanges.map { ["name": $0.name, "type": $0.type, "durable": $0.durable] },
            "queues": queues.map {
                [
                    "name": $0.name, "type": $0.type ?? "classic", "messages": $0.messages ?? 0,
                    "ready": $0.messagesReady ?? 0,
                    "unacked": $0.messagesUnacknowledged ?? 0, "consumers": $0.consumers ?? 0,
                ] as [String: Any]
            },
            "bindings": bindings.filter { !$0.source.isEmpty }.map {
                ["exchange": $0.source, "routing_key": $0.routingKey, "queue": $0.destination]
            },
            "problems": problems,
        ]
    }

    private func table(_ header: [String], _ rows: [[String]]) -> [String] {
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        func line(_ cells: [String]) -> String {
            let padded = cells.enumerated().map {
                $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0)
            }
            return String(("  " + padded.joined(separator: "  ")).reversed().drop { $0 == " " }.reversed())
        }
        return [line(header)] + rows.map(line)
    }
}
