import Audit
import Foundation
import MercatoTesting
import Postgres
import Testing

/// `mercato load` with a mix of payments, cancellations and races, against the real system:
/// its own checker passes, its closing `mercato audit` finds the books balanced, and the
/// tests' audit agrees.
@Suite(.needsSystem, .systemSlot, .serialized, .timeLimit(.minutes(10)))
struct LoadMixSystemTests {
    @Test func theLoadGeneratorPaysCancelsAndChecksTheSaga() async throws {
        let system = try await SagaSystemTests.start()
        let result = try await Self.load(
            system, ["--count", "300", "--pay", "0.5", "--cancel", "0.2", "--race", "0.1"])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("OK: the books balance"), "the load ends with mercato audit: \(result.output)")
        let report = try #require(
            result.output.firstIndex(of: "{").flatMap {
                try JSONSerialization.jsonObject(with: Data(result.output[$0...].utf8)) as? [String: Any]
            })
        #expect(report["correct"] as? Bool == true && report["accepted"] as? Int == 300)
        let payments = try #require(report["payments"] as? String)
        #expect(payments.hasPrefix("paid ") && !payments.contains("gave up"), "\(payments)")

        let orders = try await system.database(.order).query("SELECT id FROM orders").map {
            try $0.decode(UUID.self, at: 0)
        }
        let audit = try await system.drain(accepted: Set(orders))
        #expect(audit.clean, "\(audit)")
        #expect((audit.states["paid"] ?? 0) > 0 && (audit.states["cancelled"] ?? 0) > 0, "\(audit)")
        await system.shutdown()
    }

    /// `--scarce`: one order in five also wants one of 15 units. Some are refused at once, some
    /// accepted and then cancelled by the catalog's reservation; the generator's check proves
    /// the winners hold or bought exactly what the catalog says, and both audits balance the
    /// stock.
    @Test func theLoadGeneratorRunsAProductOutOfStockAndNeverOversells() async throws {
        let system = try await SagaSystemTests.start()
        let result = try await Self.load(
            system, ["--count", "200", "--scarce", "15", "--pay", "0.3", "--cancel", "0.1"])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("OK: the books balance"), "\(result.output)")
        let report = try #require(
            result.output.firstIndex(of: "{").flatMap {
                try JSONSerialization.jsonObject(with: Data(result.output[$0...].utf8)) as? [String: Any]
            })
        let stock = try #require(report["stock"] as? [String: Int], "\(report)")
        let accepted = try #require(report["accepted"] as? Int)
        #expect(report["correct"] as? Bool == true, "\(report)")
        #expect(accepted + stock["refused", default: 0] == 200, "every order accepted or refused for stock: \(report)")
        // 40 orders want a scarce unit, and there are 15.
        #expect(stock["refused", default: 0] + stock["rejected", default: 0] > 0, "\(report)")

        let orders = try await system.database(.order).query("SELECT id FROM orders").map {
            try $0.decode(UUID.self, at: 0)
        }
        let audit = try await system.drain(accepted: Set(orders))
        #expect(audit.clean && audit.oversold == 0, "\(audit)")
        await system.shutdown()
    }

    /// `mercato load` against `system` with `mix`, 8 clients over 10 customers, JSON report,
    /// ending with `mercato audit`.
    static func load(_ system: MercatoSystem, _ mix: [String]) async throws -> (status: Int32, output: String) {
        let result = try await runProcess(
            [
                "load", "--order-url", "http://127.0.0.1:\(system.ports[.order]!)",
                "--customer-url", "http://127.0.0.1:\(system.ports[.customer]!)",
                "--invoice-url", "http://127.0.0.1:\(system.ports[.invoice]!)",
                "--catalog-url", "http://127.0.0.1:\(system.ports[.catalog]!)",
                "--token", system.adminToken, "--concurrency", "8", "--customers", "10", "--quiet", "--json",
                "--settle-timeout", "120", "--audit",
            ] + mix + (try system.auditArguments),
            executable: MercatoSystem.binDirectory.appendingPathComponent("mercato"), mergingStandardError: true,
            // Longer than the load's own --settle-timeout: a run that does not settle then
            // fails with the generator's report of what is missing, not a bare timeout.
            timeout: .seconds(300))
        return (result.status, result.output)
    }
}
