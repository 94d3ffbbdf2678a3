import Locking
import Logging
import MercatoTesting
import ServiceLifecycle
import Synchronization
import Testing

@testable import ServiceKit

/// The order in which a service's group starts and stops its parts.
@Suite(.timeLimit(.minutes(1)))
struct RuntimeServicesTests {
    /// Stands in for the span exporter: takes spans while it runs, refuses them once it has
    /// stopped (as the OTLP exporter's last flush is its last send).
    final class Exporter: Service {
        let exported = Locked<[String]>([])
        let refused = Locked<[String]>([])
        let stopped = Atomic<Bool>(false)
        let started = OneShot()

        func run() async throws {
            started.fire()
            try? await gracefulShutdown()
            stopped.store(true, ordering: .sequentiallyConsistent)
        }

        func export(_ span: String) {
            if stopped.load(ordering: .sequentiallyConsistent) {
                refused.withLock { $0.append(span) }
            } else {
                exported.withLock { $0.append(span) }
            }
        }
    }

    /// Stands in for a consumer or the relay: ends a span as it stops (its last batch).
    struct EndsASpanWhenItStops: Service {
        let name: String
        let exporter: Exporter
        let started = OneShot()

        func run() async throws {
            started.fire()
            try? await gracefulShutdown()
            exporter.export("\(name): last batch")
        }
    }

    /// Any other part: runs until the group stops.
    struct Idle: Service {
        func run() async throws { try? await gracefulShutdown() }
    }

    @Test func theSpanExporterStopsAfterEverythingThatMakesSpans() async throws {
        let exporter = Exporter()
        let relay = EndsASpanWhenItStops(name: "relay", exporter: exporter)
        let consumer = EndsASpanWhenItStops(name: "consumer", exporter: exporter)
        let services = RuntimeServices(
            spanExporter: exporter, database: Idle(), outboxListener: Idle(), broker: Idle(), topology: Idle(),
            relay: relay,
            sampler: Idle(), consumers: [consumer])
        let group = ServiceGroup(services: services.inStartOrder, logger: Logger(label: "tests"))
        let running = Task { try await group.run() }
        for started in [exporter.started, relay.started, consumer.started] {
            try await started.wait("the group's services to start")
        }
        await group.triggerGracefulShutdown()
        try await withDeadline(.seconds(30), "the group to stop") { try await running.value }
        #expect(exporter.refused.withLock { $0 } == [], "spans ended after the exporter stopped were dropped")
        #expect(Set(exporter.exported.withLock { $0 }) == ["consumer: last batch", "relay: last batch"])
    }

    @Test func dependenciesStartBeforeWhatUsesThem() {
        struct Named: Service {
            let name: String
            func run() async throws {}
        }
        let services = RuntimeServices(
            spanExporter: Named(name: "exporter"), database: Named(name: "database"),
            outboxListener: Named(name: "listener"),
            broker: Named(name: "broker"), topology: Named(name: "topology"), relay: Named(name: "relay"),
            sampler: Named(name: "sampler"),
            consumers: [Named(name: "consumer")])
        #expect(
            services.inStartOrder.compactMap { ($0 as? Named)?.name }
                == ["exporter", "database", "listener", "broker", "topology", "relay", "sampler", "consumer"])
    }
}
