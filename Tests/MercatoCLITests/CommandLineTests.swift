import ArgumentParser
import Foundation
import ServiceKit
import Testing

@testable import mercato

/// Every subcommand of `mercato`, parsed from a real command line in process: each option
/// lands in the command that runs, with the value given.
@Suite(.timeLimit(.minutes(1)))
struct CommandLineTests {
    /// Parses `arguments` as the shell would hand them to `mercato`, expecting `Command`.
    func parse<Command: ParsableCommand>(_ arguments: [String], as type: Command.Type = Command.self) throws -> Command
    {
        let parsed = try Mercato.parseAsRoot(arguments)
        return try #require(
            parsed as? Command, "\(arguments.joined(separator: " ")) parsed as \(Swift.type(of: parsed))")
    }

    /// A subcommand that declares an option its parent declares too gets none of its values:
    /// the parent's takes them (`mercato topology apply --queue-type quorum` once declared
    /// classic queues). No command may repeat an option of a command above it.
    /// An operator's token opens every route: `mercato token --scope admin` (and the token
    /// `mercato load` mints) carries every scope the services know — without `catalog:write`
    /// the load could not stock its products.
    @Test func theAdminTokenHasEveryScope() {
        #expect(Set(TokenCommand.adminScopes) == Set(Scope.all.map(\.rawValue)))
        #expect(Set(TokenCommand.customerScopes) == Set(Scope.customer.map(\.rawValue)))
    }

    @Test func noSubcommandRepeatsAnOptionOfACommandAboveIt() throws {
        let help = try #require(
            try JSONSerialization.jsonObject(with: Data(Mercato._dumpHelp().utf8)) as? [String: Any])
        var clashes: [String] = []
        func walk(_ command: [String: Any], path: [String], above: Set<String>) {
            let arguments = command["arguments"] as? [[String: Any]] ?? []
            let names = Set(
                arguments.filter { ($0["kind"] as? String) != "positional" }
                    .flatMap { ($0["names"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String } }
                    .filter { !["h", "help", "version"].contains($0) })
            let path = path + [command["commandName"] as? String ?? "?"]
            for name in names.intersection(above).sorted() {
                clashes.append("\(path.joined(separator: " ")) --\(name)")
            }
            for subcommand in command["subcommands"] as? [[String: Any]] ?? [] {
                walk(subcommand, path: path, above: above.union(names))
            }
        }
        walk(try #require(help["command"] as? [String: Any]), path: [], above: [])
        #expect(clashes.isEmpty, "options a parent takes before its subcommand sees them: \(clashes)")
    }

    @Test func topologyApplyTakesItsOwnOptions() throws {
        let apply = try parse(
            [
                "topology", "apply", "--amqp-url", "amqp://admin:pw@rabbit:5673/shop", "--management-url",
                "http://admin:pw@rabbit:15673",
                "--queue-type", "quorum", "--password-dir", "/tmp/users",
            ], as: TopologyApplyCommand.self)
        #expect(apply.amqpURL == "amqp://admin:pw@rabbit:5673/shop")
        #expect(apply.managementURL == "http://admin:pw@rabbit:15673")
        #expect(apply.queueType == "quorum")
        #expect(apply.passwordDir == "/tmp/users")
    }

    @Test func topologyShowTakesItsOptions() throws {
        for arguments in [["topology"], ["topology", "show"]] {
            let show = try parse(
                arguments + [
                    "--management-url", "http://admin:pw@rabbit:15673", "--vhost", "shop", "--queue-type", "quorum",
                    "--json",
                ],
                as: TopologyShowCommand.self)
            #expect(show.managementURL == "http://admin:pw@rabbit:15673")
            #expect(show.vhost == "shop" && show.queueType == "quorum" && show.json, "\(arguments)")
        }
    }

    @Test func deadLetterCommandsTakeTheirOptions() throws {
        let connection = [
            "--amqp-url", "amqp://admin:pw@rabbit:5673/shop", "--management-url", "http://admin:pw@rabbit:15673",
        ]
        let list = try parse(
            ["dlq", "list", "invoice-service.stock-reserved", "--limit", "7"] + connection,
            as: DeadLetterCommand.List.self)
        #expect(list.queue == "invoice-service.stock-reserved" && list.limit == 7)
        #expect(
            list.connection.amqpURL == "amqp://admin:pw@rabbit:5673/shop"
                && list.connection.managementURL == "http://admin:pw@rabbit:15673")
        #expect(list.connection.virtualHost == "shop")
        let show = try parse(
            ["dlq", "show", "q", "--id", "m-1", "--limit", "3"] + connection, as: DeadLetterCommand.Show.self)
        #expect(show.queue == "q" && show.id == "m-1" && show.limit == 3 && show.connection.virtualHost == "shop")
        let replay = try parse(
            ["dlq", "replay", "q", "--id", "m-2", "--timeout", "9"] + connection, as: DeadLetterCommand.Replay.self)
        #expect(
            replay.queue == "q" && replay.id == "m-2" && replay.timeout == 9
                && replay.connection.managementURL == "http://admin:pw@rabbit:15673")
        let purge = try parse(
            ["dlq", "purge", "q", "--id", "m-3", "--timeout", "8"] + connection, as: DeadLetterCommand.Purge.self)
        #expect(
            purge.queue == "q" && purge.id == "m-3" && purge.timeout == 8
                && purge.connection.amqpURL == "amqp://admin:pw@rabbit:5673/shop")
    }

    @Test func loadTakesItsOptions() throws {
        let load = try parse(
            [
                "load", "--order-url", "http://o:1", "--customer-url", "http://c:2", "--invoice-url", "http://i:3",
                "--concurrency", "3",
                "--rate", "12.5", "--count", "40", "--duration", "7", "--customers", "5", "--settle-timeout", "9",
                "--pay", "0.5", "--cancel",
                "0.25", "--race", "0.125", "--token", "t", "--shed-pause-ms", "11", "--json", "--quiet",
            ], as: LoadCommand.self)
        #expect(load.orderURL == "http://o:1" && load.customerURL == "http://c:2" && load.invoiceURL == "http://i:3")
        #expect(
            load.concurrency == 3 && load.rate == 12.5 && load.count == 40 && load.duration == 7 && load.customers == 5)
        #expect(load.settleTimeout == 9 && load.pay == 0.5 && load.cancel == 0.25 && load.race == 0.125)
        #expect(load.token == "t" && load.shedPauseMs == 11 && load.json && load.quiet)
    }

    @Test func auditTakesItsOptions() throws {
        let audit = try parse(
            [
                "audit", "--database-url", "postgres://auditor:pw@db:5433", "--orders-database", "o",
                "--customers-database", "c",
                "--invoices-database", "i", "--management-url", "http://admin:pw@rabbit:15673", "--vhost", "shop",
                "--no-broker", "--settle", "30",
                "--accepted", "/tmp/ids", "--json",
            ], as: AuditCommand.self)
        #expect(audit.options.databaseURL == "postgres://auditor:pw@db:5433" && audit.options.ordersDatabase == "o")
        #expect(
            audit.options.customersDatabase == "c" && audit.options.invoicesDatabase == "i"
                && audit.options.vhost == "shop")
        #expect(audit.options.managementURL == "http://admin:pw@rabbit:15673" && audit.options.noBroker)
        #expect(audit.settle == 30 && audit.accepted == "/tmp/ids" && audit.json)
        #expect(
            try AuditOptions.url("postgres://auditor:pw@db:5433?sslmode=require", database: "orders")
                == "postgres://auditor:pw@db:5433/orders?sslmode=require")
        let load = try parse(
            ["load", "--audit", "--database-url", "postgres://a@db:1", "--invoices-database", "inv"],
            as: LoadCommand.self)
        #expect(
            load.audit && load.auditOptions.databaseURL == "postgres://a@db:1"
                && load.auditOptions.invoicesDatabase == "inv")
        #expect(!(try parse(["load", "--no-audit"], as: LoadCommand.self)).audit)
    }

    @Test func benchBrokerTakesItsOptions() throws {
        let bench = try parse(
            [
                "bench", "broker", "--amqp-url", "amqp://admin:pw@rabbit:5673/shop", "--management-url",
                "http://admin:pw@rabbit:15673",
                "--baseline", "/tmp/baseline", "--messages", "10", "--single-messages", "2", "--size", "64", "--rounds",
                "1", "--only", "confirm",
                "--json",
            ], as: BrokerBenchCommand.self)
        #expect(
            bench.connection.amqpURL == "amqp://admin:pw@rabbit:5673/shop"
                && bench.connection.managementURL == "http://admin:pw@rabbit:15673")
        #expect(
            bench.baseline == "/tmp/baseline" && bench.messages == 10 && bench.singleMessages == 2 && bench.size == 64)
        #expect(bench.rounds == 1 && bench.only == "confirm" && bench.json)
    }

    @Test func tokenTakesItsOptions() throws {
        let token = try parse(
            [
                "token", "--sub", "operator", "--scope", "orders:read", "--ttl", "60", "--key", "/tmp/key.pem", "--kid",
                "k1", "--issuer", "https://idp",
                "--audience", "shop",
            ], as: TokenCommand.self)
        #expect(
            token.sub == "operator" && token.scope == "orders:read" && token.ttl == 60 && token.key == "/tmp/key.pem"
                && token.kid == "k1")
        #expect(token.issuer == "https://idp" && token.audience == "shop" && token.secretFile == nil)
        #expect(
            try parse(["token", "--sub", "x", "--secret-file", "/tmp/secret"], as: TokenCommand.self).secretFile
                == "/tmp/secret")
    }
}
