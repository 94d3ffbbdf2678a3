package import Broker
import BrokerTesting
import Logging
import Postgres
package import ServiceKit

extension ServiceDependencies {
    /// What a service is built on in a unit test: the in-memory broker and `outbox` (the one
    /// its in-memory repository writes to), and a database client that is never run — the
    /// application's routes use the repository, and `/health/ready` says the database is down.
    package static func inMemory(outbox: MemoryOutboxStore, broker: any Broker = InMemoryBroker()) throws
        -> ServiceDependencies
    {
        let logger = Logger(label: "tests")
        let database = PostgresClient(
            configuration: try PostgresClient.Configuration(url: "postgres://tests@127.0.0.1:1/tests"), logger: logger)
        return ServiceDependencies(
            database: database, broker: broker, outbox: outbox, outboxListener: nil, logger: logger)
    }
}
