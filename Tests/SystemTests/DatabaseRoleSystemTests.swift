import Foundation
import MercatoTesting
import Postgres
import Testing

/// Least privilege in PostgreSQL, against the real server: each service connects as its own
/// role, which owns its database, is no superuser, and cannot even connect to the others'.
@Suite(.needsSystem, .systemSlot, .serialized, .timeLimit(.minutes(10)))
struct DatabaseRoleSystemTests {
    @Test func aServiceRoleReachesItsOwnDatabaseOnly() async throws {
        let system = try await MercatoSystem.start()
        for service in MercatoSystem.Service.allCases {
            let own = PostgresClient(
                configuration: try .init(url: system.serviceDatabaseURL(service)), logger: MercatoSystem.quietLogger)
            // Its migrations ran as itself: it owns its tables.
            let row = try await own.query(
                """
                SELECT rolsuper, rolcreatedb, rolcreaterole, rolbypassrls,
                       (SELECT tableowner FROM pg_tables WHERE tablename = 'outbox')
                FROM pg_roles WHERE rolname = current_user
                """)[0]
            #expect(try row.decode(Bool.self, at: 0) == false, "\(service.role) is a superuser")
            #expect(
                try row.decode(Bool.self, at: 1) == false && row.decode(Bool.self, at: 2) == false
                    && row.decode(Bool.self, at: 3) == false)
            #expect(try row.decode(String.self, at: 4) == service.role)
            await own.shutdown()

            for other in MercatoSystem.Service.allCases where other != service {
                var configuration = try PostgresClient.Configuration(
                    url: system.serviceDatabaseURL(service, database: other))
                configuration.acquireTimeout = .seconds(30)
                let foreign = PostgresClient(configuration: configuration, logger: MercatoSystem.quietLogger)
                await #expect("\(service.role) reached \(other.database)") {
                    _ = try await foreign.query("SELECT count(*) FROM outbox")
                } throws: { "\($0)".contains("permission denied for database") || "\($0)".contains("42501") }
                await foreign.shutdown()
            }
        }
        await system.shutdown()
    }
}
