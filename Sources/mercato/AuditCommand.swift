import ArgumentParser
import Audit
import Broker
import Contracts
import Foundation
import Logging
import Postgres

/// `mercato audit`: proves the books balance, read-only, against a running installation.
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract:
            "Check that every order, invoice, count and payment agrees across the services and the payment provider.",
        discussion: """
            Reads each service's database in one consistent, read-only snapshot (a role with
            pg_read_all_data suffices: mercato_auditor), the payment provider's books, and the
            broker's queues, and checks that every order is stored once, invoiced once (gapless
            numbers per year), counted once in its customer's orders_count (uncounted once if
            cancelled), in the same state at every service; that the money captured minus
            refunded at the provider is each invoice's total when paid and nothing otherwise, with
            no capture that no payment accounts for; that every order's changes are numbered
            in the order they happened; and that the stock balances: for every product, on hand
            is its adjustments (initial stock, goods received, counts) less what was sold, never
            less than what is reserved, reserved is what the orders not yet paid or cancelled
            hold, and every order of products is reserved, sold, rejected or given back as its
            state says. Dead letters are reported.

            While the system runs, news still on its way (outboxes, queues, payments pending,
            refunds owed) may explain a discrepancy: such ones are reported as unsettled, and
            one found while nothing was in flight is confirmed by a second look before it counts.
            Exits 1 if the books do not balance (with --settle, also if they do not settle in
            time), 0 otherwise.
            """)

    @OptionGroup var options: AuditOptions

    @Option(
        help:
            "Audit again until nothing is unsettled, for up to this many seconds (the end of a load or fault run); 0 audits once."
    )
    var settle = 0

    @Option(help: "Orders a client saw accepted, one id per line: each must be stored.")
    var accepted: String?

    @Flag(help: "Print JSON.")
    var json = false

    func validate() throws {
        guard settle >= 0 else { throw ValidationError("--settle must be 0 or more seconds") }
    }

    func run() async throws {
        let acceptedIDs = try accepted.map { path in
            Set(
                try String(contentsOfFile: path, encoding: .utf8).split(whereSeparator: \.isNewline).compactMap {
                    UUID(uuidString: String($0))
                })
        }
        let report = try await options.withAuditor { auditor in
            settle > 0
                ? try await auditor.audit(accepted: acceptedIDs, settlingWithin: .seconds(settle))
                : try await auditor.audit(accepted: acceptedIDs)
        }
        if json {
            print(
                String(
                    decoding: try JSONSerialization.data(
                        withJSONObject: Self.json(report), options: [.prettyPrinted, .sortedKeys]), as: UTF8.self))
        } else {
            print(report)
        }
        if !report.discrepancies.isEmpty || (settle > 0 && !report.unsettled.isEmpty) { throw ExitCode(1) }
    }

    static func json(_ report: AuditReport) -> [String: Any] {
        func entries(_ discrepancies: [Discrepancy]) -> [[String: Any]] {
            discrepancies.map { discrepancy in
                var ids: [String: String] = [:]
                for id in discrepancy.ids { ids[id.name] = ids[id.name].map { "\($0),\(id.value)" } ?? id.value }
                return [
                    "code": discrepancy.code.name, "kind": discrepancy.code.kind.rawValue, "ids": ids,
                    "message": discrepancy.message,
                ]
            }
        }
        return [
            "ok": report.discrepancies.isEmpty, "settled": report.unsettled.isEmpty,
            "discrepancies": entries(report.discrepancies),
            "unsettled": entries(report.unsettled), "states": report.states, "orders": report.ordersAudited,
            "orders_too_new": report.tooNew,
            "invoices": report.invoicesAudited, "payments": report.paymentsAudited, "refunds": report.refunds,
            "dead_letters": report.deadLetters,
            "in_flight": report.inFlight.description, "seconds": Double(report.duration / .milliseconds(1)) / 1000,
        ]
    }
}

/// Where the audit reads from: the services' databases (a read-only role suffices) and the
/// broker's management API. Shared by `mercato audit` and `mercato load --audit`.
struct AuditOptions: ParsableArguments {
    @Option(
        help:
            "The PostgreSQL server, postgres://user[:password]@host:port (default: $AUDIT_DATABASE_URL or the local scripts/run server as mercato_auditor)."
    )
    var databaseURL: String =
        ProcessInfo.processInfo.environment["AUDIT_DATABASE_URL"] ?? "postgres://mercato_auditor@127.0.0.1:5432"

    @Option(help: "order-service's database.")
    var ordersDatabase = "orders"

    @Option(help: "customer-service's database.")
    var customersDatabase = "customers"

    @Option(help: "invoice-service's database.")
    var invoicesDatabase = "invoices"

    @Option(help: "catalog-service's database (its stock and reservations).")
    var catalogDatabase = "catalog"

    @Option(
        help:
            "The management API, for what is queued (default: $RABBITMQ_MANAGEMENT_URL or the local scripts/run broker)."
    )
    var managementURL: String =
        ProcessInfo.processInfo.environment["RABBITMQ_MANAGEMENT_URL"] ?? "http://mercato:mercato@127.0.0.1:15672"

    @Option(help: "The broker's virtual host.")
    var vhost = "/"

    @Flag(help: "Do not ask the broker: nothing then counts as quiet, so only what cannot settle is a discrepancy.")
    var noBroker = false

    /// Runs `body` with an auditor over the databases, closing its connections afterwards.
    func withAuditor<T: Sendable>(_ body: (Auditor) async throws -> T) async throws -> T {
        var logger = Logger(label: "mercato-audit")
        logger.logLevel = .error
        func client(_ database: String) throws -> PostgresClient {
            var configuration = try PostgresClient.Configuration(url: try Self.url(databaseURL, database: database))
            configuration.poolSize = 1
            configuration.applicationName = "mercato-audit"
            // A large installation's snapshot takes a while to read.
            configuration.statementTimeout = .seconds(600)
            return PostgresClient(configuration: configuration, logger: logger)
        }
        let clients = [
            try client(ordersDatabase), try client(customersDatabase), try client(invoicesDatabase),
            try client(catalogDatabase),
        ]
        let queues: (any QueueDepthSource)? =
            noBroker ? nil : ManagementQueueDepths(client: try ManagementClient(url: managementURL, virtualHost: vhost))
        let auditor = Auditor(
            orders: clients[0], customers: clients[1], invoices: clients[2], catalog: clients[3], queues: queues)
        do {
            let result = try await body(auditor)
            for client in clients { await client.shutdown() }
            return result
        } catch let error as PostgresError where error.code == .connectionFailed {
            for client in clients { await client.shutdown() }
            // libpq's message spans lines and says `"host", port N`: one line naming where.
            let server = URLComponents(string: databaseURL).map { "\($0.host ?? "?"):\($0.port ?? 5432)" } ?? "?"
            let reason =
                error.message.split(separator: "\n").first.map {
                    $0.split(separator: ":").last.map(String.init) ?? String($0)
                } ?? "failed"
            throw ValidationFailure(
                "cannot connect to PostgreSQL at \(server) as the auditor (\(reason.trimmingCharacters(in: .whitespaces)))"
            )
        } catch {
            for client in clients { await client.shutdown() }
            throw error
        }
    }

    /// `base` (a server URL, perhaps with a database and parameters) with `database` as its path.
    static func url(_ base: String, database: String) throws -> String {
        guard var components = URLComponents(string: base), components.host != nil else {
            throw ValidationError(
                "--database-url is not a postgres:// URL: \(PostgresClient.Configuration.redacted(base))")
        }
        components.path = "/" + database
        guard let url = components.string else { throw ValidationError("--database-url is not a URL") }
        return url
    }
}

/// What Mercato's queues hold, from the management API (ready and unacknowledged messages):
/// the consumer and retry queues' messages are in flight, the dead-letter queues' are
/// reported. Queues that are not Mercato's are not its business.
struct ManagementQueueDepths: QueueDepthSource {
    let client: ManagementClient

    func depths() async throws -> [String: Int] {
        let ours = Set(Topology.mercato().queues.map(\.name))
        var depths: [String: Int] = [:]
        for queue in try await client.queues() where ours.contains(queue.name) {
            depths[queue.name] = queue.messages ?? ((queue.messagesReady ?? 0) + (queue.messagesUnacknowledged ?? 0))
        }
        return depths
    }
}
