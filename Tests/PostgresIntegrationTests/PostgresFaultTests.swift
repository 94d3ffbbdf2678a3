import Foundation
import MercatoTesting
import Postgres
import Testing

/// Restarts PostgreSQL under the pool. Runs in scripts/test's second phase, alone, because it
/// takes the shared database down.
@Suite(.needsPostgres, .serialized, .timeLimit(.minutes(5)))
struct PostgresFaultTests {
    @Test func poolRecoversFromADatabaseRestart() async throws {
        let client = try Integration.makeClient()
        let table = uniqueTable("restart")
        try await client.query("CREATE TABLE \(table) (id int PRIMARY KEY)")
        // Warm the pool so it holds connections that the restart will kill.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for id in 1...4 { group.addTask { try await client.query("INSERT INTO \(table) VALUES ($1)", id) } }
            try await group.waitForAll()
        }
        try await Integration.infra("postgres", "restart")
        // Idle connections the server closed are noticed and replaced: no error reaches us.
        try await client.query("INSERT INTO \(table) VALUES ($1)", 5)
        #expect(try await client.query("SELECT count(*) FROM \(table)")[0].decode(Int.self, at: 0) == 5)

        let listener = client.listen([table])
        try await withRunning([listener]) {
            var iterator = listener.makeAsyncIterator()
            #expect(try await next(&iterator)?.processID == 0)
            try await Integration.infra("postgres", "restart")
            // The listener reconnects and says so, then receives again.
            #expect(try await next(&iterator, timeout: .seconds(60))?.processID == 0)
            try await client.notify(table, payload: "after restart")
            #expect(try await next(&iterator)?.payload == "after restart")
        }
        await client.shutdown()
    }
}
