// swift-tools-version:6.2
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

/// What the three services' unit-test targets share: the service's own target is added to it.
let serviceTestDependencies: [Target.Dependency] = [
    "ServiceTesting", "ServiceKit", "Contracts", "ContractTesting", "MercatoTesting",
    .product(name: "Hummingbird", package: "hummingbird"),
    .product(name: "HTTPTypes", package: "swift-http-types"),
    .product(name: "Logging", package: "swift-log"),
]

let package = Package(
    name: "mercato",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Contracts", targets: ["Contracts"]),
        .library(name: "Messaging", targets: ["Messaging"]),
        .library(name: "Broker", targets: ["Broker"]),
        .library(name: "BrokerTesting", targets: ["BrokerTesting"]),
        .library(name: "Postgres", targets: ["Postgres"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        // Default traits off: swift-configuration support is not used (configuration comes from
        // the environment, read in one place per service) and costs build minutes.
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1", traits: []),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        // Already built for Hummingbird; named here for the load generator's HTTP client.
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        // Latency percentiles in `mercato load` without keeping every sample.
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
        // GET /metrics. swift-metrics and swift-distributed-tracing come with Hummingbird.
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-distributed-tracing.git", from: "1.7.3"),
        // Bearer JWTs: verification (jwt-kit) and the middleware that runs it (hummingbird-auth).
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.7.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.5.0"),
        // `swift package generate-documentation`: the DocC catalogs of Broker, Postgres and
        // ServiceKit, built by scripts/test with warnings as errors. A plugin: nothing links it.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin.git", from: "1.5.0"),
    ],
    targets: [
        // C libraries from Debian's -dev packages, found through pkg-config.
        .systemLibrary(
            name: "CRabbitMQ",
            pkgConfig: "librabbitmq",
            providers: [.apt(["librabbitmq-dev"]), .brew(["rabbitmq-c"])]
        ),
        .systemLibrary(
            name: "CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"]), .brew(["libpq"])]
        ),

        // Messages and topologies as values (exchanges, queues, bindings, properties, headers):
        // no C and no I/O, so the contracts can use them without rabbitmq-c.
        .target(name: "Messaging", swiftSettings: swiftSettings),

        // Shared event contracts: payloads, envelope, names, and Mercato's topology in
        // Messaging's terms. Builds without any C library.
        .target(
            name: "Contracts", dependencies: ["Messaging"], path: "contracts", exclude: ["samples", "asyncapi.yaml"],
            swiftSettings: swiftSettings),

        // State behind a pthread mutex: Synchronization.Mutex, but visible to ThreadSanitizer.
        .target(name: "Locking", swiftSettings: swiftSettings),

        // A serial executor on a dedicated thread, where blocking C calls are allowed.
        .target(name: "IOThread", dependencies: ["Locking"], swiftSettings: swiftSettings),

        .target(
            name: "Broker",
            dependencies: [
                "Locking", "Messaging",
                "CRabbitMQ", "IOThread",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // The in-memory Broker: the double every unit test uses, held to the same contract
        // suite as the RabbitMQ one (as ServiceLifecycleTestKit ships beside its library).
        .target(name: "BrokerTesting", dependencies: ["Broker", "Locking"], swiftSettings: swiftSettings),

        .target(
            name: "Postgres",
            dependencies: [
                "Locking",
                "CLibPQ", "IOThread",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),

        // What every service shares: configuration, HTTP plumbing, outbox relay, consumers.
        .target(
            name: "ServiceKit",
            dependencies: [
                "Locking",
                "Broker", "Contracts", "Postgres",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "HummingbirdAuth", package: "hummingbird-auth"),
            ],
            swiftSettings: swiftSettings
        ),

        .target(
            name: "CustomerService",
            dependencies: [
                "Contracts", "Postgres", "ServiceKit", .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdAuth", package: "hummingbird-auth"),
                .product(name: "Logging", package: "swift-log"),
            ],
            // Served at GET /openapi.json; compiled into the binary, so the image needs no bundle.
            resources: [.embedInCode("openapi.json")],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "customer-service", dependencies: ["CustomerService", "ServiceKit"], swiftSettings: swiftSettings),

        .target(
            name: "CatalogService",
            dependencies: [
                "Contracts", "Postgres", "ServiceKit", .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdAuth", package: "hummingbird-auth"),
                .product(name: "Logging", package: "swift-log"),
            ],
            // Served at GET /openapi.json; compiled into the binary, so the image needs no bundle.
            resources: [.embedInCode("openapi.json")],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "catalog-service", dependencies: ["CatalogService", "ServiceKit"], swiftSettings: swiftSettings),

        .target(
            name: "OrderService",
            dependencies: [
                "Locking", "Contracts", "Postgres", "ServiceKit", .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdAuth", package: "hummingbird-auth"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            // Served at GET /openapi.json and GET /live; compiled into the binary, so the image
            // needs no bundle and the page no CDN.
            resources: [
                .embedInCode("openapi.json"), .embedInCode("Live/live.html"), .embedInCode("Live/live.js"),
                .embedInCode("Live/live.css"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "order-service", dependencies: ["OrderService", "ServiceKit"], swiftSettings: swiftSettings),

        .target(
            name: "InvoiceService",
            dependencies: [
                "Locking", "Contracts", "Postgres", "ServiceKit", .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdAuth", package: "hummingbird-auth"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            // Served at GET /openapi.json; compiled into the binary, so the image needs no bundle.
            resources: [.embedInCode("openapi.json")],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "invoice-service", dependencies: ["InvoiceService", "ServiceKit"], swiftSettings: swiftSettings),

        // The books, audited across the services' databases and the provider's: mercato audit,
        // and the end of every load, fault and system test.
        .target(
            name: "Audit",
            dependencies: ["Postgres"],
            swiftSettings: swiftSettings
        ),

        // The operator CLI: topology inspection, dead letters, load, audit and benchmarks.
        .executableTarget(
            name: "mercato",
            dependencies: [
                "Locking",
                "Audit", "Broker", "Contracts", "Postgres",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "JWTKit", package: "jwt-kit"),
            ],
            swiftSettings: swiftSettings
        ),

        // What the tests share: deadlines, a manual clock, one-shot events, integration gates.
        .target(
            name: "MercatoTesting",
            dependencies: [
                "Locking", "ServiceKit", .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "HummingbirdAuth", package: "hummingbird-auth"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Tests/MercatoTesting",
            swiftSettings: swiftSettings
        ),

        // The services' in-memory stores and repositories, for unit tests: each passes the
        // contract suite its PostgreSQL twin passes.
        .target(
            name: "ServiceTesting",
            dependencies: [
                "Locking", "Broker", "BrokerTesting", "Contracts", "Postgres", "ServiceKit", "OrderService",
                "CustomerService", "InvoiceService", "CatalogService",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/ServiceTesting",
            swiftSettings: swiftSettings
        ),

        // Behaviour every implementation of a protocol must show, run against the real one
        // (integration targets) and the in-memory double (unit targets) alike.
        .target(
            name: "ContractTesting",
            dependencies: [
                "Locking", "Broker", "Contracts", "MercatoTesting", "ServiceKit", "OrderService", "CustomerService",
                "InvoiceService", "CatalogService",
            ],
            path: "Tests/ContractTesting",
            swiftSettings: swiftSettings
        ),

        .testTarget(
            name: "ContractsTests", dependencies: ["Contracts", "Broker", "MercatoTesting"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "IOThreadTests", dependencies: ["IOThread", "Locking", "MercatoTesting"], swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "BrokerTests",
            dependencies: ["BrokerTesting", "Broker", "Contracts", "ContractTesting", "MercatoTesting"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "BrokerIntegrationTests",
            dependencies: [
                "Locking", "Broker", "Contracts", "ContractTesting", "MercatoTesting",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SystemTests",
            dependencies: [
                "Audit", "Locking", "Broker", "Contracts", "Postgres", "MercatoTesting", "ServiceKit",
                "ContractTesting", .product(name: "Logging", package: "swift-log"),
            ],
            exclude: ["schemathesis.toml"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ServiceKitTests",
            dependencies: [
                "ServiceTesting", "BrokerTesting", "Locking", "ServiceKit", "MercatoTesting", "ContractTesting",
                "Broker", "Contracts", "Postgres", .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
            ], swiftSettings: swiftSettings),
        .testTarget(
            name: "ServiceIntegrationTests",
            dependencies: [
                "BrokerTesting",
                "ServiceKit", "Broker", "Postgres", "Contracts", "ContractTesting", "MercatoTesting",
                "CustomerService", "OrderService", "InvoiceService", "CatalogService",
                .product(name: "Hummingbird", package: "hummingbird"), .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CustomerServiceTests",
            dependencies: serviceTestDependencies + ["CustomerService", "Broker", "BrokerTesting"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "CatalogServiceTests",
            dependencies: serviceTestDependencies + ["CatalogService", "Broker", "BrokerTesting"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "OrderServiceTests",
            dependencies: serviceTestDependencies + ["OrderService", "Broker", "BrokerTesting"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "InvoiceServiceTests", dependencies: serviceTestDependencies + ["InvoiceService", "Locking"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "DeployTests",
            dependencies: [
                "Contracts", "Messaging", "OrderService", "CustomerService", "InvoiceService", "CatalogService",
                "ServiceKit",
                "MercatoTesting",
            ], swiftSettings: swiftSettings),
        // The operator CLI: its command lines parsed in process, its failures run for real.
        .testTarget(
            name: "MercatoCLITests",
            dependencies: [
                "mercato", "MercatoTesting", "ServiceKit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "PostgresTests", dependencies: ["Postgres"], swiftSettings: swiftSettings),
        .testTarget(name: "AuditTests", dependencies: ["Audit"], swiftSettings: swiftSettings),
        .testTarget(
            name: "PostgresIntegrationTests",
            dependencies: ["Postgres", "MercatoTesting", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
    ]
)
