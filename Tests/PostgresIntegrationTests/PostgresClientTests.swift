import Foundation
import MercatoTesting
import Testing

@testable import Postgres

/// libpq wrapper against a real PostgreSQL 15 (started by scripts/test).
@Suite(.needsPostgres, .timeLimit(.minutes(2)))
struct PostgresClientTests {
    let client: PostgresClient

    init() throws {
        client = try Integration.makeClient()
    }

    @Test func throwingTransactionLeavesNothingBehind() async throws {
        let table = uniqueTable("tx")
        try await client.query("CREATE TABLE \(table) (id int PRIMARY KEY, note text)")
        struct Boom: Error {}
        await #expect(throws: Boom.self) {
            try await client.transaction { connection in
                try await connection.query("INSERT INTO \(table) VALUES ($1, $2)", 1, "first")
                try await connection.query("INSERT INTO \(table) VALUES ($1, $2)", 2, "second")
                throw Boom()
            }
        }
        // A failing statement also rolls back what came before it in the transaction.
        await #expect(throws: PostgresError.self) {
            try await client.transaction { connection in
                try await connection.query("INSERT INTO \(table) VALUES ($1, $2)", 3, "third")
                try await connection.query("INSERT INTO \(table) VALUES ($1, $2)", 3, "duplicate")
            }
        }
        let count = try await client.query("SELECT count(*) FROM \(table)")[0].decode(Int.self, at: 0)
        #expect(count == 0)
        try await client.transaction { try await $0.query("INSERT INTO \(table) VALUES ($1, $2)", 4, "kept") }
        #expect(try await client.query("SELECT count(*) FROM \(table)")[0].decode(Int.self, at: 0) == 1)
        await client.shutdown()
    }

    @Test(arguments: [
        "plain", "it's \"quoted\"", #"back\slash \\ and \x00-looking"#, "naïve café – 日本語 🚀",
        "'; DROP TABLE users; --", "", "line\nbreak\ttab", String(repeating: "long ", count: 2000),
    ])
    func textRoundTrips(_ text: String) async throws {
        let rows = try await client.query("SELECT $1::text AS value, length($1::text) AS length", text)
        #expect(try rows[0].decode(String.self, "value") == text)
        #expect(try rows[0].decode(Int.self, "length") == text.count)
        await client.shutdown()
    }

    @Test func typedValuesRoundTrip() async throws {
        let table = uniqueTable("types")
        try await client.query(
            """
            CREATE TABLE \(table) (
                id uuid PRIMARY KEY, amount numeric(38, 10), big bigint, flag boolean, ratio double precision,
                at timestamptz, note text, blob bytea
            )
            """)
        let id = UUID()
        let amount = Decimal(string: "1234567890123456789012345678.0123456789")!
        let at = Date(timeIntervalSince1970: 1_732_400_000.123456)
        let blob = Data([0, 1, 2, 0xfe, 0xff])
        try await client.query(
            "INSERT INTO \(table) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            id, amount, Int64.max, true, 0.1, at, String?.none, blob)
        let row = try await client.query("SELECT id, amount, big, flag, ratio, at, note, blob FROM \(table)")[0]
        #expect(try row.decode(UUID.self, "id") == id)
        #expect(try row.decode(Decimal.self, "amount") == amount)
        #expect(try row.decode(Int64.self, "big") == Int64.max)
        #expect(try row.decode(Bool.self, "flag") == true)
        #expect(try row.decode(Double.self, "ratio") == 0.1)
        let decoded = try row.decode(Date.self, "at")
        #expect(abs(decoded.timeIntervalSince1970 - at.timeIntervalSince1970) < 0.000_001)
        #expect(try row.decode(String?.self, "note") == nil)
        #expect(try row.decode(Data.self, "blob") == blob)
        // A NULL cannot be decoded as a non-optional, and says so.
        #expect(throws: PostgresError.self) { try row.decode(String.self, "note") }
        await client.shutdown()
    }

    @Test func arraysBindAsParameters() async throws {
        let values = ["plain", "with \"quotes\"", "back\\slash", "comma, brace}", "NULL", ""]
        let rows = try await client.query("SELECT unnest($1::text[]) AS value", values)
        #expect(try rows.map { try $0.decode(String.self, "value") } == values)
        let ids = [UUID(), UUID()]
        let matched = try await client.query("SELECT $2::uuid = ANY($1::uuid[]) AS found", ids, ids[1])
        #expect(try matched[0].decode(Bool.self, "found"))
        await client.shutdown()
    }

    @Test func numericBeyondDecimalIsRefusedNotRounded() async throws {
        let huge = "123456789012345678901234567890123456789012.5"
        let row = try await client.query("SELECT $1::numeric AS n", huge)[0]
        #expect(try row.decode(String.self, "n") == huge)
        #expect(throws: PostgresError.self) { try row.decode(Decimal.self, "n") }
        await client.shutdown()
    }

    @Test func timestampsWithZonesDecodeToTheSameInstant() async throws {
        let rows = try await client.query(
            """
            SELECT '2024-03-10 12:34:56.789012+05:30'::timestamptz AS east,
                   '2024-03-10 07:04:56.789012Z'::timestamptz AS utc,
                   '2024-03-09 21:04:56.789012-10'::timestamptz AS west
            """)
        let east = try rows[0].decode(Date.self, "east")
        #expect(try rows[0].decode(Date.self, "utc") == east)
        #expect(try rows[0].decode(Date.self, "west") == east)
        #expect(abs(east.timeIntervalSince1970 - 1_710_054_296.789012) < 0.000_001)
        await client.shutdown()
    }

    @Test func uniqueViolationsAreRecognisable() async throws {
        let table = uniqueTable("unique")
        try await client.query("CREATE TABLE \(table) (key text PRIMARY KEY)")
        try await client.query("INSERT INTO \(table) VALUES ($1)", "k")
        do {
            try await client.query("INSERT INTO \(table) VALUES ($1)", "k")
            Issue.record("a duplicate key was accepted")
        } catch let error as PostgresError {
            #expect(error.isUniqueViolation)
            #expect(error.constraint == "\(table)_pkey")
        }
        await client.shutdown()
    }

    @Test func migrationsRunOnce() async throws {
        let table = uniqueTable("migrated")
        let migrations = [
            PostgresMigration(version: 1, name: "create \(table)", sql: "CREATE TABLE \(table) (id int)"),
            PostgresMigration(
                version: 2, name: "seed \(table)",
                sql: "INSERT INTO \(table) VALUES (1); INSERT INTO \(table) VALUES (2);"),
        ]
        // Each test database run shares schema_migrations, so use a private schema.
        let schema = uniqueTable("schema")
        try await client.query("CREATE SCHEMA \(schema)")
        var configuration = client.configuration
        configuration.url += (configuration.url.contains("?") ? "&" : "?") + "options=-csearch_path%3D\(schema)"
        let scoped = PostgresClient(configuration: configuration, logger: Integration.logger)
        let first = try await scoped.migrate(migrations, logger: Integration.logger)
        let second = try await scoped.migrate(migrations, logger: Integration.logger)
        #expect(first == [1, 2])
        #expect(second.isEmpty)
        #expect(try await scoped.query("SELECT count(*) FROM \(table)")[0].decode(Int.self, at: 0) == 2)
        // A renamed migration means the history diverged: refuse.
        var renamed = migrations
        renamed[1].name = "something else"
        await #expect(throws: PostgresError.self) { try await scoped.migrate(renamed, logger: Integration.logger) }
        await scoped.shutdown()
        await client.shutdown()
    }

    @Test func notificationsArrive() async throws {
        let channel = uniqueTable("channel")
        let listener = client.listen([channel])
        try await withRunning([listener]) {
            var iterator = listener.makeAsyncIterator()
            // The first notification (processID 0) says the listener is connected.
            let ready = try await next(&iterator)
            #expect(ready?.processID == 0)
            try await client.notify(channel, payload: "hello")
            let received = try await next(&iterator)
            #expect(received?.channel == channel)
            #expect(received?.payload == "hello")
            #expect(received?.processID != 0)
        }
        await client.shutdown()
    }

    @Test func notificationsWaitForCommit() async throws {
        let channel = uniqueTable("commit")
        let listener = client.listen([channel])
        try await withRunning([listener]) {
            var iterator = listener.makeAsyncIterator()
            _ = try await next(&iterator)
            struct Abort: Error {}
            try? await client.transaction { connection in
                try await connection.query("SELECT pg_notify($1, $2)", channel, "rolled back")
                throw Abort()
            }
            try await client.transaction { connection in
                try await connection.query("SELECT pg_notify($1, $2)", channel, "committed")
            }
            #expect(try await next(&iterator)?.payload == "committed")
        }
        await client.shutdown()
    }

    @Test func cheapNotificationsReachTheClientsListenersAtCommitAndOthersThroughTheServer() async throws {
        let channel = uniqueTable("cheap")
        // Clients of their own, so the session count of poolServesMoreCallersThanConnections
        // running beside this test is not disturbed.
        let client = try Integration.makeClient(applicationName: "postgres-tests-notify")
        let other = try Integration.makeClient(applicationName: "postgres-tests-notify")
        let local = client.listen([channel])
        let remote = other.listen([channel])
        try await withRunning([local, remote]) {
            var localIterator = local.makeAsyncIterator()
            var remoteIterator = remote.makeAsyncIterator()
            _ = try await next(&localIterator)
            _ = try await next(&remoteIterator)
            struct Abort: Error {}
            try? await client.transaction { connection in
                try await connection.notify(channel)
                throw Abort()
            }
            try await client.transaction { connection in try await connection.notify(channel) }
            // The rolled-back notification reached no one; the committed one reached both: this
            // client's listener directly (process id 0) and through the server, the other's only
            // through the server.
            let first = try await next(&localIterator)
            let second = try await next(&localIterator)
            #expect(first?.channel == channel && second?.channel == channel)
            let senders = [first?.processID, second?.processID]
            #expect(senders.contains(0))
            let fromServer = try await next(&remoteIterator)
            #expect(fromServer?.channel == channel && fromServer?.processID != 0)
        }
        await other.shutdown()
        await client.shutdown()
    }

    @Test func poolServesMoreCallersThanConnections() async throws {
        let client = try Integration.makeClient(poolSize: 2, applicationName: "postgres-tests-pool")
        let sums = try await withThrowingTaskGroup(of: Int.self) { group in
            for index in 0..<50 {
                group.addTask {
                    try await client.query("SELECT $1::int + 1 AS n, pg_sleep(0.005)", index)[0].decode(Int.self, "n")
                }
            }
            return try await group.reduce(0, +)
        }
        #expect(sums == (1...50).reduce(0, +))
        let sessions = try await client.query(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'postgres-tests-pool'")
        #expect(try sessions[0].decode(Int.self, at: 0) <= 2, "the pool never opens more than its size")
        await client.shutdown()
    }

    @Test func aCallerWaitingForABusyPoolTimesOutAndThePoolCarriesOn() async throws {
        var configuration = try PostgresClient.Configuration(url: Integration.databaseURL())
        configuration.poolSize = 1
        configuration.acquireTimeout = .milliseconds(200)
        configuration.applicationName = "postgres-tests-timeout"
        let client = PostgresClient(configuration: configuration, logger: Integration.logger)
        // The holder keeps the pool's one connection until the waiter has given up: no sleep
        // decides who gets it first.
        let holding = OneShot()
        let letGo = OneShot()
        let holder = Task {
            try await client.withConnection { _ in
                holding.fire()
                try await letGo.wait("the waiter's verdict", timeout: .seconds(60))
            }
        }
        try await holding.wait("the holder's connection")
        let start = ContinuousClock.now
        await #expect {
            try await client.query("SELECT 1")
        } throws: { ($0 as? PostgresError)?.code == .poolTimeout }
        let waited = ContinuousClock.now - start
        // Timed out by its own deadline (no upper bound on the wall clock: a loaded machine is
        // slow, not wrong).
        #expect(waited >= .milliseconds(200), "timed out after \(waited)")
        letGo.fire()
        try await holder.value
        #expect(try await client.query("SELECT 1 AS n")[0].decode(Int.self, "n") == 1, "the pool carries on")
        // Many waiters, each served once the connection is free: none is timed out early.
        configuration.acquireTimeout = .seconds(10)
        let patient = PostgresClient(configuration: configuration, logger: Integration.logger)
        let results = try await withThrowingTaskGroup(of: Int.self) { group in
            for index in 0..<20 {
                group.addTask { try await patient.query("SELECT $1::int", index)[0].decode(Int.self, at: 0) }
            }
            return try await group.reduce(0, +)
        }
        #expect(results == (0..<20).reduce(0, +))
        await patient.shutdown()
        await client.shutdown()
    }
}
