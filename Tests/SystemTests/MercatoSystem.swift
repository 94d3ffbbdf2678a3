import Broker
import Contracts
import Foundation
import Locking
import Logging
import MercatoTesting
import Postgres
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The three services running as separate processes against the test RabbitMQ and
/// PostgreSQL, isolated from other tests by a vhost and databases of their own.
final class MercatoSystem: Sendable {
    enum Service: String, CaseIterable, Sendable {
        case order = "order-service"
        case customer = "customer-service"
        case invoice = "invoice-service"
        case catalog = "catalog-service"

        /// Its entry in the one list of services.
        var declaration: MercatoService {
            guard let service = MercatoService.named(rawValue) else {
                preconditionFailure("\(rawValue) is not in MercatoService.all")
            }
            return service
        }

        /// The PostgreSQL role the service connects as.
        var role: String { declaration.role }

        /// Its database (the system's copy is prefixed with the system's name).
        var database: String { declaration.database }

        /// The variable that tells the other services its URL (`CUSTOMER_SERVICE_URL`).
        var urlVariable: String { rawValue.uppercased().replacingOccurrences(of: "-", with: "_") + "_URL" }
    }

    let name: String
    let amqpURL: String
    let ports: [Service: Int]
    let databaseURLs: [Service: String]
    let logDirectory: URL
    /// A broker on the system's vhost, for publishing raw messages and reading dead letters;
    /// it runs until ``shutdown()``.
    /// The admin's connection: declares, inspects, and publishes what no service may.
    let broker: RabbitMQBroker
    private let brokerRun: Task<Void, any Error>
    /// Connections as each service's own broker user, by the exchange that user may write to:
    /// what ``publish(_:)`` sends events through, as their real producer would.
    private let publishers = Locked<[String: (RabbitMQBroker, Task<Void, any Error>)]>([:])
    private let databases: [Service: PostgresClient]
    private let processes = Locked<[Service: Process]>([:])
    /// The SKUs ``stockedSKU(name:price:)`` has added.
    private let stocked = Locked<Set<String>>([])
    private let extraEnvironment: [String: String]
    /// With TLS: the CA the services trust for RabbitMQ (`amqps://`, `AMQP_CA_FILE`) and
    /// PostgreSQL (`sslmode=verify-full`); `nil` for plain connections.
    let tlsCAFile: String?
    /// Signs tokens with the secret the services verify with (a fresh one per system).
    let tokens: TestTokens
    /// An operator's token (every scope, `mercato:admin`): what ``request(_:_:_:json:headers:)``
    /// sends unless the headers carry an `Authorization` of their own.
    let adminToken: String

    static let environment = ProcessInfo.processInfo.environment

    /// Where the service executables are: `scripts/test` exports it; otherwise the debug build.
    static var binDirectory: URL {
        if let path = environment["MERCATO_BIN_DIR"] { return URL(fileURLWithPath: path) }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
            .appendingPathComponent(".build/debug")
    }

    private init(
        name: String, amqpURL: String, ports: [Service: Int], databaseURLs: [Service: String], logDirectory: URL,
        broker: RabbitMQBroker,
        brokerRun: Task<Void, any Error>, databases: [Service: PostgresClient], extraEnvironment: [String: String],
        tokens: TestTokens,
        adminToken: String, tlsCAFile: String?
    ) {
        self.tlsCAFile = tlsCAFile
        self.tokens = tokens
        self.adminToken = adminToken
        self.name = name
        self.amqpURL = amqpURL
        self.ports = ports
        self.databaseURLs = databaseURLs
        self.logDirectory = logDirectory
        self.broker = broker
        self.brokerRun = brokerRun
        self.databases = databases
        self.extraEnvironment = extraEnvironment
    }

    /// Creates a vhost and three databases, and starts the three services.
    /// With `applyTopology` false the admin step is skipped and the services are not waited
    /// for: they find no queues, which their users may not declare.
    static func start(environment extra: [String: String] = [:], tlsCAFile: String? = nil, applyTopology: Bool = true)
        async throws -> MercatoSystem
    {
        let name = "sys_" + UUID().uuidString.prefix(8).lowercased()
        let management = try Management()
        try await management.createVirtualHost(name)
        let base = try Integration.amqpURL()
        let amqpURL = base.replacingOccurrences(of: "/%2F", with: "/\(name)")

        let postgresBase = try Integration.postgresURL()
        let admin = PostgresClient(configuration: try .init(url: postgresBase + "/postgres"), logger: quietLogger)
        var databaseURLs: [Service: String] = [:]
        var databases: [Service: PostgresClient] = [:]
        for service in Service.allCases {
            // Owned by the service's own role (scripts/infra made it), which alone may
            // connect; the tests' own clients below are the admin's.
            let database = "\(name)_\(service.database)"
            try await admin.query("CREATE DATABASE \(database) OWNER \(service.role)")
            try await admin.query("REVOKE CONNECT ON DATABASE \(database) FROM PUBLIC")
            // The read-only auditor of mercato audit (scripts/infra creates the role).
            try await admin.query("GRANT CONNECT ON DATABASE \(database) TO mercato_auditor")
            databaseURLs[service] = "\(postgresBase)/\(database)"
            databases[service] = PostgresClient(
                configuration: try .init(url: databaseURLs[service]!), logger: quietLogger)
        }
        await admin.shutdown()

        var ports: [Service: Int] = [:]
        for service in Service.allCases { ports[service] = try freePort() }
        let logs = FileManager.default.temporaryDirectory.appendingPathComponent("mercato-\(name)")
        try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)

        var brokerConfiguration = try RabbitMQBroker.Configuration(url: amqpURL)
        brokerConfiguration.connectionName = "system-tests"
        brokerConfiguration.reconnectMaximumDelay = .seconds(1)
        Integration.ignoreBrokenPipes()
        let broker = RabbitMQBroker(configuration: brokerConfiguration, logger: quietLogger)
        let brokerRun = Task { try await broker.run() }
        if applyTopology { try await broker.declare(.mercato(queueType: queueType)) }
        // Each service logs in as its own user, with the least-privilege permissions of
        // production, on this system's vhost: the topology was applied above, as the admin.
        for permission in BrokerPermission.mercato {
            try await management.apply(permission, password: Self.password(of: permission.user), virtualHost: name)
        }

        let tokens = TestTokens()
        var extra = extra
        extra["AUTH_JWT_SECRET"] = tokens.secret
        let system = MercatoSystem(
            name: name, amqpURL: amqpURL, ports: ports, databaseURLs: databaseURLs, logDirectory: logs, broker: broker,
            brokerRun: brokerRun,
            databases: databases, extraEnvironment: extra, tokens: tokens,
            adminToken: try await tokens.admin(now: Date().addingTimeInterval(-5)),
            tlsCAFile: tlsCAFile)
        for service in Service.allCases { try system.launch(service) }
        if applyTopology {
            for service in Service.allCases { try await system.waitUntilReady(service) }
        }
        return system
    }

    /// The password of a service's broker user in the tests (users are shared by every
    /// system's vhost, so it is the same each time).
    static func password(of user: String) -> String { "\(user)-test-password" }

    /// `service`'s own DATABASE_URL: its role, its database.
    func serviceDatabaseURL(_ service: Service, database: Service? = nil) -> String {
        var components = URLComponents(string: databaseURLs[database ?? service]!)!
        components.user = service.role
        components.password = nil
        if let tlsCAFile {
            // The certificate names localhost; verify-full checks the chain and the name.
            components.host = "localhost"
            components.queryItems = [
                URLQueryItem(name: "sslmode", value: "verify-full"),
                URLQueryItem(name: "sslrootcert", value: tlsCAFile),
            ]
        }
        return components.string!
    }

    /// The queue type of the test broker: `QUEUE_TYPE`, which scripts/infra sets to
    /// `quorum` on a cluster (and the services read too).
    static var queueType: QueueType { environment["QUEUE_TYPE"].flatMap(QueueType.init(rawValue:)) ?? .classic }

    /// Whether the test broker is a cluster (scripts/infra up --cluster).
    static var isCluster: Bool { (Int(environment["MERCATO_RABBITMQ_NODES"] ?? "1") ?? 1) > 1 }

    /// `service`'s own AMQP URL: its user, this system's vhost; on a cluster, one URL per node.
    func serviceAMQPURL(_ service: Service) -> String {
        amqpURL.split(separator: ",").map { serviceAMQPURL(service, node: String($0)) }.joined(separator: ",")
    }

    private func serviceAMQPURL(_ service: Service, node: String) -> String {
        var components = URLComponents(string: node)!
        if tlsCAFile != nil, let tls = Self.environment["MERCATO_AMQPS_URL"].flatMap(URLComponents.init(string:)) {
            components.scheme = tls.scheme
            components.host = tls.host
            components.port = tls.port
        }
        components.user = service.rawValue
        components.password = Self.password(of: service.rawValue)
        return components.string!
    }

    static var quietLogger: Logger {
        var logger = Logger(label: "system-tests")
        logger.logLevel = .error
        return logger
    }

    // MARK: - Processes

    func launch(_ service: Service) throws {
        let process = try start(service, port: ports[service]!, log: "\(service.rawValue).log")
        processes.withLock { $0[service] = process }
    }

    /// Starts another replica of `service` on a port of its own, beside the one ``launch(_:)``
    /// started (same database, same queues); the caller stops it.
    func launchReplica(_ service: Service) throws -> (port: Int, process: Process) {
        let port = try freePort()
        return (port, try start(service, port: port, log: "\(service.rawValue)-\(port).log"))
    }

    private func start(_ service: Service, port: Int, log name: String) throws -> Process {
        let process = Process()
        process.executableURL = Self.binDirectory.appendingPathComponent(service.rawValue)
        var environment = ProcessInfo.processInfo.environment
        environment["PORT"] = String(port)
        environment["AMQP_URL"] = serviceAMQPURL(service)
        environment["AMQP_OPERATOR_USER"] = try RabbitMQBroker.Configuration(url: amqpURL).username
        environment["AMQP_CA_FILE"] = tlsCAFile
        environment["DATABASE_URL"] = serviceDatabaseURL(service)
        for other in Service.allCases { environment[other.urlVariable] = "http://127.0.0.1:\(ports[other]!)" }
        environment["LOG_LEVEL"] = "info"
        // Debug builds on a 2-core machine running suites side by side take longer than any
        // production target to settle a burst: admission control would shed the orders the
        // tests count. AdmissionSystemTests turns it on.
        environment["ADMISSION_TARGET_MS"] = "0"
        // The system's own key, not whatever the test command's environment names.
        environment["AUTH_JWT_SECRET_FILE"] = nil
        for (key, value) in extraEnvironment { environment[key] = value }
        process.environment = environment
        let log = logDirectory.appendingPathComponent(name)
        if !FileManager.default.fileExists(atPath: log.path) {
            _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        }
        let handle = try FileHandle(forWritingTo: log)
        handle.seekToEndOfFile()
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        return process
    }

    /// Stops `service` gracefully (SIGTERM) and waits for it to exit; one that has not
    /// after `timeout` is killed (and the test learns of it from the service's log).
    func stop(_ service: Service, timeout: Duration = .seconds(30)) async {
        guard let process = processes.withLock({ $0.removeValue(forKey: service) }) else { return }
        process.terminate()
        let deadline = ContinuousClock.now + timeout
        while process.isRunning, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(50)) }
        if process.isRunning {
            progress("\(service.rawValue) did not stop within \(timeout) of SIGTERM; killing it")
            Foundation.kill(process.processIdentifier, SIGKILL)
            while process.isRunning { try? await Task.sleep(for: .milliseconds(50)) }
        }
    }

    /// Kills `service` with SIGKILL: no chance to finish anything.
    func kill(_ service: Service) async {
        guard let process = processes.withLock({ $0.removeValue(forKey: service) }) else { return }
        Foundation.kill(process.processIdentifier, SIGKILL)
        try? await waitUntil(
            "\(service.rawValue) to die of SIGKILL", timeout: .seconds(30), interval: .milliseconds(50)
        ) { !process.isRunning }
    }

    func restart(_ service: Service) async throws {
        try launch(service)
        try await waitUntilReady(service)
    }

    func waitUntilReady(_ service: Service, timeout: Duration = .seconds(60)) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let (status, _) = try? await request(service, "GET", "/health/ready"), status == 200 { return }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw SystemTestFailure("\(service.rawValue) not ready within \(timeout)\n" + tail(service))
    }

    /// Waits until `service`'s log has a line containing `text`: a service saying that
    /// something happened, instead of a test sleeping and assuming it did.
    func waitForLog(_ service: Service, containing text: String, timeout: Duration = .seconds(90)) async throws {
        try await eventually("\(service.rawValue) logs \"\(text)\"", timeout: timeout) {
            let log =
                (try? String(
                    contentsOf: logDirectory.appendingPathComponent("\(service.rawValue).log"), encoding: .utf8)) ?? ""
            return log.contains(text)
        }
    }

    /// Removes the binding of `queue` to `exchange` with `routingKey` (the management API):
    /// events routed only there are then unroutable and wait in their producer's outbox until
    /// ``rebind()``, as during a partial outage.
    func unbind(_ queue: String, from exchange: String, routingKey: String) async throws {
        let path =
            "/api/bindings/\(name)/e/\(exchange)/q/\(queue)/\(routingKey.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? routingKey)"
        let (status, _) = try await Management().send("DELETE", path)
        guard (200..<300).contains(status) else {
            throw SystemTestFailure("could not unbind \(queue) from \(exchange) (\(routingKey)): \(status)")
        }
    }

    /// The options that point `mercato audit` (and `mercato load --audit`) at this system:
    /// its databases as the read-only auditor, its vhost's queues.
    var auditArguments: [String] {
        get throws {
            var server = try #require(URLComponents(string: try Integration.postgresURL()))
            server.user = "mercato_auditor"
            let management = MercatoSystem.environment["RABBITMQ_MANAGEMENT_URL"] ?? ""
            return [
                "--database-url", server.string!, "--orders-database", "\(name)_orders", "--customers-database",
                "\(name)_customers",
                "--invoices-database", "\(name)_invoices", "--catalog-database", "\(name)_catalog",
                "--management-url", management, "--vhost", name,
            ]
        }
    }

    /// Declares the whole topology again, bindings included.
    func rebind() async throws {
        try await broker.declare(.mercato(queueType: Self.queueType))
    }

    /// The last lines of a service's log, for failure messages.
    func tail(_ service: Service, lines: Int = 30) -> String {
        let text =
            (try? String(contentsOf: logDirectory.appendingPathComponent("\(service.rawValue).log"), encoding: .utf8))
            ?? ""
        return text.split(separator: "\n").suffix(lines).joined(separator: "\n")
    }

    /// Stops every service, closes the clients, and deletes the system's vhost and databases.
    /// Publishes `messages` as their producer would: each through the connection of the
    /// service user allowed to write to its exchange (the admin's for anything else), so the
    /// consumers see the `user_id` they expect.
    func publish(_ messages: [OutboundMessage]) async throws {
        for message in messages {
            try await publisher(for: message.exchange).publish(message)
        }
    }

    /// One message; see ``publish(_:)-([OutboundMessage])``.
    func publish(_ message: OutboundMessage) async throws {
        try await publish([message])
    }

    private func publisher(for exchange: String) throws -> RabbitMQBroker {
        let owner: Service? =
            switch exchange {
            case ExchangeName.orders: .order
            case ExchangeName.customers: .customer
            case ExchangeName.invoices: .invoice
            default: nil
            }
        guard let owner else { return broker }
        return try publishers.withLock { publishers in
            if let (existing, _) = publishers[exchange] { return existing }
            var configuration = try RabbitMQBroker.Configuration(url: serviceAMQPURL(owner))
            configuration.connectionName = "system-tests as \(owner.rawValue)"
            let publisher = RabbitMQBroker(configuration: configuration, logger: Self.quietLogger)
            publishers[exchange] = (publisher, Task { try await publisher.run() })
            return publisher
        }
    }

    func shutdown() async {
        for (publisher, run) in publishers.withLock({ Array($0.values) }) {
            await publisher.shutdown()
            _ = await run.result
        }
        for service in Service.allCases { await stop(service) }
        await broker.shutdown()
        _ = await brokerRun.result
        for client in databases.values { await client.shutdown() }
        // Thrown away: a run that starts hundreds of systems (a soak of phase 1, a growing
        // suite) keeps the broker's and the database server's load flat. RabbitMQ's
        // management API slowed past 30 s answers once a few hundred vhosts were left behind.
        _ = try? await Management().send("DELETE", "/api/vhosts/\(name)")
        if let url = try? Integration.postgresURL(),
            let configuration = try? PostgresClient.Configuration(url: url + "/postgres")
        {
            let admin = PostgresClient(configuration: configuration, logger: Self.quietLogger)
            for service in Service.allCases {
                _ = try? await admin.query("DROP DATABASE IF EXISTS \(name)_\(service.database) WITH (FORCE)")
            }
            await admin.shutdown()
        }
    }

    // MARK: - Servers

    /// Runs a program to its end without holding a thread of the cooperative pool; its
    /// output goes to `output` (the test runner's own by default), and it runs in `directory`
    /// (the current one by default). Returns its exit status; one still running after
    /// `timeout` is terminated and the run fails.
    static func run(
        _ executable: URL, _ arguments: [String], output: FileHandle? = nil, in directory: URL? = nil,
        timeout: Duration = .seconds(600)
    ) async throws -> Int32 {
        try await runProcess(
            arguments, executable: executable, directory: directory, output: output ?? FileHandle.standardError,
            timeout: timeout
        ).status
    }

    /// Every message now in `queue`'s dead-letter queue (read and acknowledged), gathered
    /// until none has come for `quiet`. With `expecting`, first waits (up to `timeout`) until
    /// the queue holds that many: a consumer starved of CPU by the tests running beside it may
    /// dead-letter its poison after the good work behind it has settled, and a quiet window
    /// alone would then report too few. Until it has read as many as the queue held (or
    /// `expecting`), it waits for each batch up to `timeout`, not `quiet`: a new consumer
    /// connection declares the whole topology before its first delivery, which on a busy
    /// machine took longer than a second (CI: 0 of 6 read).
    func drainDeadLetters(
        of queue: String, expecting: Int? = nil, timeout: Duration = .seconds(60), quiet: Duration = .seconds(1)
    ) async throws -> [Delivery] {
        let deadLetterQueue = QueueName.deadLetter(of: queue)
        if let expecting {
            // On a timeout, drain what is there: the caller's count check says what is missing.
            try? await eventually("\(deadLetterQueue) holds \(expecting) messages", timeout: timeout) {
                try await broker.inspect(queue: deadLetterQueue).messageCount >= expecting
            }
        }
        let held = (try? await broker.inspect(queue: deadLetterQueue).messageCount) ?? 0
        let target = max(held, expecting ?? 0)
        let consumer = try await broker.consume(queue: deadLetterQueue, prefetch: 500)
        var received: [Delivery] = []
        let deadline = ContinuousClock.now + timeout
        while true {
            let wait = received.count < target ? max(quiet, deadline - ContinuousClock.now) : quiet
            let batch = await withTaskGroup(of: [Delivery].self) { group in
                group.addTask { await consumer.next(max: 500) }
                group.addTask {
                    try? await Task.sleep(for: wait)
                    return []
                }
                let first = await group.next() ?? []
                group.cancelAll()
                return first
            }
            if batch.isEmpty { break }
            received += batch
        }
        for delivery in received { try? await delivery.ack() }
        await consumer.cancel()
        return received
    }

    // MARK: - HTTP

    static let session: URLSession = {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = 30
        configuration.httpMaximumConnectionsPerHost = 64
        return URLSession(configuration: configuration)
    }()

    /// Sends a request; returns the status and the decoded JSON body.
    func request(
        _ service: Service, _ method: String, _ path: String, json: Any? = nil, headers: [String: String] = [:],
        port: Int? = nil
    ) async throws -> (Int, Any?) {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port ?? ports[service]!)\(path)")!)
        request.httpMethod = method
        if let json {
            request.httpBody = try JSONSerialization.data(withJSONObject: json)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        request.setValue("Bearer \(adminToken)", forHTTPHeaderField: "Authorization")
        for (name, value) in headers { request.setValue(value.isEmpty ? nil : value, forHTTPHeaderField: name) }
        let (data, response) = try await Self.session.data(for: request)
        let status = (response as! HTTPURLResponse).statusCode
        return (status, data.isEmpty ? nil : try? JSONSerialization.jsonObject(with: data))
    }

    /// `POST /orders` of `items` (name, quantity, price): each line orders the catalog's
    /// product of that name and price (``stockedSKU(name:price:)``), so the order is invoiced at
    /// the price the test names. Returns the status and the body.
    func placeOrder(customer: String, items: [(String, Int, String)], headers: [String: String] = [:], port: Int? = nil)
        async throws -> (Int, [String: Any])
    {
        var lines: [[String: Any]] = []
        for (name, quantity, price) in items {
            lines.append(["sku": try await stockedSKU(name: name, price: price), "quantity": quantity])
        }
        return try await placeOrder(customer: customer, lines: lines, headers: headers, port: port)
    }

    /// `POST /orders` of `lines` as the API takes them (`sku`, `quantity`); returns the status
    /// and the body.
    func placeOrder(customer: String, lines: [[String: Any]], headers: [String: String] = [:], port: Int? = nil)
        async throws -> (Int, [String: Any])
    {
        let body: [String: Any] = ["customer_id": customer, "items": lines]
        let (status, json) = try await request(.order, "POST", "/orders", json: body, headers: headers, port: port)
        return (status, json as? [String: Any] ?? [:])
    }

    /// The SKU of the catalog's product called `name` at `price` (e.g. `TEA-3-50`), added on
    /// first use with more stock than any test orders: tests of the order flow name their
    /// lines and prices, and the catalog is what prices them now.
    func stockedSKU(name: String, price: String) async throws -> String {
        let letters = name.uppercased().unicodeScalars.map {
            ("A"..."Z").contains($0) || ("0"..."9").contains($0) ? Character($0) : "-"
        }
        let sku = String(String(letters).prefix(40)) + "-" + price.replacingOccurrences(of: ".", with: "-")
        guard !stocked.withLock({ $0.contains(sku) }) else { return sku }
        try await addProduct(sku: sku, name: name, price: price, stock: 100_000_000)
        // As a shop's products exist well before its orders: in order-service's replica, so
        // a test's burst of orders is priced there, not looked up over HTTP one by one.
        try await eventually("order-service's replica has \(sku)", timeout: .seconds(60)) {
            try await database(.order).query("SELECT 1 FROM products WHERE sku = $1", sku).first != nil
        }
        stocked.withLock { _ = $0.insert(sku) }
        return sku
    }

    /// `POST /products` as the operator; a product already there (a race with another test's
    /// first use) is fine.
    func addProduct(
        sku: String, name: String, price: String, stock: Int, reorderPoint: Int = 0, reorderQuantity: Int = 0
    )
        async throws
    {
        let (status, body) = try await request(
            .catalog, "POST", "/products",
            json: [
                "sku": sku, "name": name, "price": price, "stock_on_hand": stock, "reorder_point": reorderPoint,
                "reorder_quantity": reorderQuantity,
            ])
        guard status == 201 || status == 409 else {
            throw SystemTestFailure("adding product \(sku) answered \(status): \(String(describing: body))")
        }
    }

    // MARK: - Database checks

    func database(_ service: Service) -> PostgresClient { databases[service]! }

    /// Waits until `condition` holds, checking every 200 ms.
    func eventually(_ what: String, timeout: Duration = .seconds(90), _ condition: () async throws -> Bool) async throws
    {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if (try? await condition()) == true { return }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw SystemTestFailure(
            "timed out waiting until \(what)\n"
                + Service.allCases.map { "--- \($0.rawValue)\n" + tail($0) }.joined(separator: "\n"))
    }

    /// The system's end-to-end invariants, true once every accepted order has been counted
    /// and invoiced exactly once and every outbox is empty.
    func invariants(expectedOrders: Int) async throws -> Invariants {
        let orders = database(.order)
        let customers = database(.customer)
        let invoices = database(.invoice)
        var result = Invariants()
        let orderRows = try await orders.query("SELECT id, customer_id, status, invoice_id FROM orders")
        result.orders = orderRows.count
        result.invoicedOrders = try orderRows.filter { try $0.decode(String.self, "status") == "invoiced" }.count
        var perCustomer: [UUID: Int] = [:]
        for row in orderRows { perCustomer[try row.decode(UUID.self, "customer_id"), default: 0] += 1 }
        let counts = try await customers.query("SELECT id, orders_count FROM customers")
        result.countMismatches = try counts.filter { row in
            try row.decode(Int.self, "orders_count") != perCustomer[try row.decode(UUID.self, "id"), default: 0]
        }.count
        let invoiceRows = try await invoices.query("SELECT order_id, number FROM invoices ORDER BY number")
        result.invoices = invoiceRows.count
        let invoicedOrderIDs = try invoiceRows.map { try $0.decode(UUID.self, "order_id") }
        result.ordersWithOneInvoice =
            Set(invoicedOrderIDs).intersection(try orderRows.map { try $0.decode(UUID.self, "id") }).count
        let numbers = try invoiceRows.map { try $0.decode(String.self, "number") }
        let sequences = numbers.compactMap { Int($0.split(separator: "-").last ?? "") }.sorted()
        result.numbersGapless = sequences == Array(1...max(1, sequences.count)).prefix(sequences.count).map { $0 }
        result.numbersUnique = Set(numbers).count == numbers.count
        result.unsentOutbox = 0
        for client in Service.allCases.map(database) {
            result.unsentOutbox += try await client.query("SELECT count(*) FROM outbox WHERE published_at IS NULL")[0]
                .decode(Int.self, at: 0)
        }
        result.expectedOrders = expectedOrders
        return result
    }

    struct Invariants: CustomStringConvertible {
        var expectedOrders = 0
        var orders = 0
        var invoicedOrders = 0
        var invoices = 0
        var ordersWithOneInvoice = 0
        var countMismatches = 0
        var numbersGapless = false
        var numbersUnique = false
        var unsentOutbox = 0

        var settled: Bool {
            orders == expectedOrders && invoicedOrders == orders && invoices == orders && ordersWithOneInvoice == orders
                && countMismatches == 0 && numbersGapless && numbersUnique && unsentOutbox == 0
        }

        var description: String {
            "orders \(orders)/\(expectedOrders), invoiced \(invoicedOrders), invoices \(invoices), orders with an invoice \(ordersWithOneInvoice), "
                + "orders_count mismatches \(countMismatches), numbers gapless \(numbersGapless) unique \(numbersUnique), unsent outbox \(unsentOutbox)"
        }
    }

    /// Waits for the system to settle with `expected` orders, then checks the invariants.
    func expectSettled(orders expected: Int, timeout: Duration = .seconds(90)) async throws {
        var last = Invariants()
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            last = try await invariants(expectedOrders: expected)
            if last.settled { break }
            try await Task.sleep(for: .milliseconds(250))
        }
        #expect(last.settled, "\(last)")
        #expect(last.orders == expected)
        #expect(last.countMismatches == 0)
        #expect(last.invoices == last.orders)
        #expect(last.numbersGapless && last.numbersUnique)
        #expect(last.unsentOutbox == 0)
    }

    // MARK: - Dead letters

    /// Reads (and acknowledges) what is in a queue's dead-letter queue.
    func deadLetters(of queue: String, expecting count: Int, timeout: Duration = .seconds(30)) async throws
        -> [Delivery]
    {
        let consumer = try await broker.consume(queue: QueueName.deadLetter(of: queue), prefetch: 100)
        defer { Task { await consumer.cancel() } }
        var received: [Delivery] = []
        let deadline = ContinuousClock.now + timeout
        while received.count < count, ContinuousClock.now < deadline {
            let batch = await withTaskGroup(of: [Delivery].self) { group in
                group.addTask { await consumer.next(max: 100) }
                group.addTask {
                    try? await Task.sleep(for: .milliseconds(500))
                    return []
                }
                let first = await group.next() ?? []
                group.cancelAll()
                return first
            }
            received += batch
        }
        for delivery in received { try? await delivery.ack() }
        return received
    }
}

struct SystemTestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A port nobody listens on, for a service to listen on, below the kernel's ephemeral range:
/// a port the kernel picked (bind to port 0) is one it also hands to outgoing connections,
/// and with a hundred of them open by the tests beside, one took a service's port between
/// this check and the service's bind (seen in CI: "Address already in use"). Random, and
/// checked by binding it.
func freePort() throws -> Int {
    let range =
        (try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8))?
        .split(whereSeparator: \.isWhitespace).first.flatMap { Int($0) } ?? 32768
    for _ in 0..<1000 {
        let port = Int.random(in: 10000..<max(10001, range))
        if canBind(port) { return port }
    }
    throw SystemTestFailure("no free port below the ephemeral range")
}

private func canBind(_ port: Int) -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = UInt16(port).bigEndian
    let length = socklen_t(MemoryLayout<sockaddr_in>.size)
    return withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 }
    }
}

/// The RabbitMQ management API of the test broker.
struct Management {
    /// The management API of every node (one, or each node of a cluster, any of which
    /// answers for the whole cluster).
    let bases: [URL]
    let authorization: String

    init() throws {
        let environment = MercatoSystem.environment
        guard let text = environment["MERCATO_RABBITMQ_MANAGEMENT_URLS"] ?? environment["RABBITMQ_MANAGEMENT_URL"]
        else {
            throw SystemTestFailure("RABBITMQ_MANAGEMENT_URL is not set")
        }
        var bases: [URL] = []
        var credentials: (String, String)?
        for url in text.split(separator: ",") {
            guard let components = URLComponents(string: String(url)), let user = components.user,
                let password = components.password,
                let host = components.host, let port = components.port
            else { throw SystemTestFailure("not a management URL: \(url)") }
            bases.append(URL(string: "http://\(host):\(port)")!)
            credentials = credentials ?? (user, password)
        }
        guard let (user, password) = credentials else { throw SystemTestFailure("RABBITMQ_MANAGEMENT_URL is not set") }
        self.bases = bases
        authorization = "Basic " + Data("\(user):\(password)".utf8).base64EncodedString()
        self.user = user
    }

    let user: String

    /// Sends a request to the first node that answers: on a cluster, a node may be down
    /// or paused by the test.
    func send(_ method: String, _ path: String, json: Any? = nil) async throws -> (Int, Data) {
        var lastError: (any Error)?
        for base in bases {
            var request = URLRequest(url: URL(string: base.absoluteString + path)!)
            request.httpMethod = method
            request.timeoutInterval = bases.count > 1 ? 5 : 30
            request.setValue(authorization, forHTTPHeaderField: "Authorization")
            if let json {
                request.httpBody = try JSONSerialization.data(withJSONObject: json)
                request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            }
            do {
                let (data, response) = try await MercatoSystem.session.data(for: request)
                let status = (response as! HTTPURLResponse).statusCode
                // A paused (minority) node's API answers 503 or not at all.
                if status >= 500, base != bases.last { continue }
                return (status, data)
            } catch {
                lastError = error
            }
        }
        throw lastError ?? SystemTestFailure("no management API answered")
    }

    /// Creates or updates `permission`'s user and sets its permissions on `virtualHost`.
    func apply(_ permission: BrokerPermission, password: String, virtualHost: String) async throws {
        // Created once and left alone: rewriting a user while another system's service logs
        // in as it can refuse that login.
        var (created, _) = try await send("GET", "/api/users/\(permission.user)")
        if created == 404 {
            (created, _) = try await send(
                "PUT", "/api/users/\(permission.user)", json: ["password": password, "tags": ""])
            // Another system, starting at the same moment, may have made it first.
            if !(200..<300).contains(created) { (created, _) = try await send("GET", "/api/users/\(permission.user)") }
        }
        let (granted, _) = try await send(
            "PUT", "/api/permissions/\(virtualHost)/\(permission.user)",
            json: ["configure": permission.configure, "write": permission.write, "read": permission.read])
        guard (200..<300).contains(created), (200..<300).contains(granted) else {
            throw SystemTestFailure("could not set up the broker user \(permission.user): \(created) \(granted)")
        }
    }

    func createVirtualHost(_ name: String) async throws {
        let (created, _) = try await send("PUT", "/api/vhosts/\(name)", json: [:] as [String: String])
        let (granted, _) = try await send(
            "PUT", "/api/permissions/\(name)/\(user)", json: ["configure": ".*", "write": ".*", "read": ".*"])
        guard (200..<300).contains(created), (200..<300).contains(granted) else {
            throw SystemTestFailure("could not create vhost \(name): \(created) \(granted)")
        }
    }
}
