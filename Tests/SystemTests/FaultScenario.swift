import Audit
import Foundation

/// One fault the fault-injection suite inflicts on the running system under load.
enum FaultScenario: String, CaseIterable, Sendable {
    case rabbitmq
    case postgres
    case consumers
    case orderService = "order-service"
    case catalog = "catalog-service"
    case duplicates
    case poison
    case saga
    // On a three-node RabbitMQ cluster (quorum queues), two replicas of every service.
    case clusterLeader = "cluster-leader"
    case clusterRolling = "cluster-rolling"
    case clusterPartition = "cluster-partition"
    case zombies
    case postgresStall = "postgres-stall"
    case replicaKill = "replica-kill"

    /// Whether the scenario runs on the cluster (scripts/infra up --cluster) with two
    /// replicas of every service, in the cluster suite.
    var needsCluster: Bool {
        switch self {
        case .rabbitmq, .postgres, .consumers, .orderService, .catalog, .duplicates, .poison, .saga: false
        case .clusterLeader, .clusterRolling, .clusterPartition, .zombies, .postgresStall, .replicaKill: true
        }
    }

    /// What happens, for the report.
    var title: String {
        switch self {
        case .rabbitmq: "RabbitMQ SIGKILL, restarted after 3 s"
        case .postgres: "PostgreSQL fast shutdown, restarted after 2 s"
        case .consumers: "customer- and invoice-service SIGKILL mid-batch, restarted"
        case .orderService: "order-service SIGKILL (relay mid-publish), restarted"
        case .catalog:
            "catalog-service SIGKILL mid-reservation, restarted; one order in five also wants one of 40 scarce units"
        case .duplicates:
            "every event published 2 more times, reversed; an invoice of an order never stored; "
                + "customer v3 before v1"
        case .poison: "6 poison messages among the orders"
        case .saga:
            "orders paid (65%), cancelled (10%), both at once (5%); RabbitMQ, invoice-, order-, customer-service SIGKILLed in turn"
        case .clusterLeader:
            "cluster: the RabbitMQ node holding the quorum-queue leaders SIGKILLed, restarted after 10 s; 6 poison messages"
        case .clusterRolling: "cluster: rolling restart of the three RabbitMQ nodes, one at a time"
        case .clusterPartition:
            "cluster: a RabbitMQ node (the leaders', with clients on it) cut off from the other two for 20 s (pause_minority), healed"
        case .zombies:
            "cluster: one replica of each service SIGSTOPped for 35 s (past the heartbeat timeout), then SIGCONT"
        case .postgresStall: "cluster: PostgreSQL SIGSTOPped for 10 s, then SIGCONT"
        case .replicaKill: "cluster: one replica of each service SIGKILLed, the other serving on"
        }
    }

    /// The scenarios of one suite (the cluster's, or the single node's) to run: all, or
    /// those named in `MERCATO_FAULT_SCENARIOS` (comma-separated); an unknown name is an
    /// error, not a scenario skipped, and a name from the other suite is ignored.
    static func selected(cluster: Bool) throws -> [FaultScenario] {
        let suite = allCases.filter { $0.needsCluster == cluster }
        guard let names = MercatoSystem.environment["MERCATO_FAULT_SCENARIOS"], !names.isEmpty else { return suite }
        let named = try names.split(separator: ",").map { name in
            let trimmed = name.trimmingCharacters(in: .whitespaces)
            guard let scenario = FaultScenario(rawValue: trimmed) else {
                throw SystemTestFailure(
                    "unknown fault scenario \(trimmed); the scenarios are \(allCases.map(\.rawValue).joined(separator: ", "))"
                )
            }
            return scenario
        }
        return named.filter { $0.needsCluster == cluster }
    }
}

/// The outcome of one scenario: a row of the report.
struct FaultOutcome: Sendable {
    var scenario: FaultScenario
    var accepted = 0
    var httpErrors = 0
    var httpErrorKinds = "-"
    var audit = AuditReport()
    /// From the injection until the fault was over (the process or server back).
    var fault: Duration?
    /// From the end of the fault until every order accepted before it was counted and invoiced.
    var recovery: Duration?
    var deadLetters = 0
    var expectedDeadLetters = 0
    /// Scenario-specific checks that failed, and errors that ended the scenario early.
    var problems: [String] = []

    var passed: Bool {
        problems.isEmpty && audit.clean && deadLetters == expectedDeadLetters && accepted > 0
    }

    static func seconds(_ duration: Duration?) -> String {
        guard let duration else { return "-" }
        let milliseconds = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        return String(format: "%.1f s", Double(milliseconds) / 1000)
    }
}

/// The table the suite prints: Markdown, so a real run can go into docs/operations.md as it is.
struct FaultReport {
    var outcomes: [FaultOutcome]

    var table: String {
        var lines = [
            "| Scenario | Orders accepted | HTTP errors during the fault | Lost | Doubled | Inconsistent | Oversold | Fault lasted | Recovered after | Dead letters (expected) | Result |",
            "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---|",
        ]
        for outcome in outcomes {
            let errors = outcome.httpErrors == 0 ? "0" : "\(outcome.httpErrors) (\(outcome.httpErrorKinds))"
            lines.append(
                "| \(outcome.scenario.title) | \(outcome.accepted) | \(errors) | \(outcome.audit.lost) | \(outcome.audit.doubled) | \(outcome.audit.inconsistent + outcome.audit.unrefunded) | \(outcome.audit.oversold) | "
                    + "\(FaultOutcome.seconds(outcome.fault)) | \(FaultOutcome.seconds(outcome.recovery)) | \(outcome.deadLetters) (\(outcome.expectedDeadLetters)) | \(outcome.passed ? "pass" : "FAIL") |"
            )
        }
        return lines.joined(separator: "\n")
    }
}
