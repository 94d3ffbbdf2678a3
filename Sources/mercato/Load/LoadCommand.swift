import ArgumentParser
import Audit
import Contracts
import Foundation
import Histogram
import NIOCore
import NIOHTTP1
import Synchronization

/// `mercato load`: places orders over HTTP, then checks that the system counted and invoiced
/// every one exactly once, and prints throughput, latencies, settle time and memory.
struct LoadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load",
        abstract: "Place orders at a fixed concurrency or rate, then verify and report.",
        discussion: """
            Creates its own customers, places orders from --concurrency clients (each with its own
            keep-alive connection) for --count orders or --duration seconds, as fast as they go or
            at --rate orders/s. Then it waits for the system to settle and checks it: every
            accepted order counted once in its customer's orders_count, listed by order-service
            as invoiced, and invoiced exactly once by invoice-service. With --pay and --cancel it
            then pays and cancels shares of the orders (--race: both at once) and checks that
            every order ends in the same state at all three services, with one capture per paid
            order and none kept for a cancelled one. With --scarce, one order in five also asks
            for a product of that many units: the check then also proves it never oversold (the
            orders that won it hold or bought exactly what the catalog says is reserved and sold,
            and every loser was cancelled out_of_stock, never invoiced). It ends with `mercato audit` across the
            services' databases and the provider's books (--audit; on by default when
            AUDIT_DATABASE_URL is set). It exits 1 on any correctness failure. Order-to-invoice
            latency is the invoice's issued_at minus the order's created_at (one machine, one clock).
            """)

    @Option(help: "order-service.") var orderURL =
        ProcessInfo.processInfo.environment["ORDER_SERVICE_URL"] ?? "http://127.0.0.1:8080"
    @Option(help: "customer-service.") var customerURL =
        ProcessInfo.processInfo.environment["CUSTOMER_SERVICE_URL"] ?? "http://127.0.0.1:8081"
    @Option(help: "invoice-service.") var invoiceURL =
        ProcessInfo.processInfo.environment["INVOICE_SERVICE_URL"] ?? "http://127.0.0.1:8082"
    @Option(help: "catalog-service.") var catalogURL =
        ProcessInfo.processInfo.environment["CATALOG_SERVICE_URL"] ?? "http://127.0.0.1:8083"
    @Option(help: "Concurrent clients.") var concurrency = 16
    @Option(help: "Target orders per second (default: as fast as the clients go).") var rate: Double?
    @Option(help: "Orders to place (default: run for --duration).") var count: Int?
    @Option(help: "Seconds to run when no --count is given.") var duration: Double = 30
    @Option(help: "Customers to create and spread the orders over.") var customers = 50
    @Option(help: "Seconds to wait for the system to settle.") var settleTimeout: Double = 120
    @Option(help: "Share of the orders to pay in full once invoiced (0-1).") var pay: Double = 0
    @Option(help: "Share of the orders to cancel (0-1).") var cancel: Double = 0
    @Option(help: "Share of the orders to pay and cancel at once, racing (0-1).") var race: Double = 0
    @Option(
        help:
            "Units of a scarce product that one order in five also asks for (0: none): some orders are refused (409) or lose the race for it and are cancelled out_of_stock."
    )
    var scarce = 0
    @Option(
        help:
            "A bearer token with mercato:admin and every scope (default: MERCATO_TOKEN, else one minted with AUTH_JWT_SECRET_FILE)."
    )
    var token: String?
    @Option(help: "Milliseconds a client waits after an order shed with 503 (admission control) before its next one.")
    var shedPauseMs = 100
    @Flag(
        inversion: .prefixedNo,
        help: "End with `mercato audit` over the run's orders (default: on when AUDIT_DATABASE_URL is set).")
    var audit = ProcessInfo.processInfo.environment["AUDIT_DATABASE_URL"] != nil
    @OptionGroup(title: "Audit") var auditOptions: AuditOptions
    @Flag(help: "Print the result as JSON.") var json = false
    @Flag(help: "No live progress line.") var quiet = false

    /// `--token`, else an admin token for the run, signed with the services' own secret.
    private func adminToken() async throws -> String {
        if let token = token ?? ProcessInfo.processInfo.environment["MERCATO_TOKEN"], !token.isEmpty { return token }
        guard let secret = try TokenMinter.secretFromEnvironment() else {
            throw ValidationError(
                "the services need a bearer token: pass --token (or MERCATO_TOKEN), or set AUTH_JWT_SECRET_FILE to mint one"
            )
        }
        let ttl = (duration + settleTimeout) * 2 + 600
        return try await TokenMinter(secret: secret).token(
            subject: "mercato-load", scopes: TokenCommand.adminScopes, ttl: ttl)
    }

    func validate() throws {
        guard concurrency > 0, customers > 0 else {
            throw ValidationError("--concurrency and --customers must be positive")
        }
        if let rate, rate <= 0 { throw ValidationError("--rate must be positive") }
        if let count, count <= 0 { throw ValidationError("--count must be positive") }
        guard (0...1_000_000_000).contains(scarce) else { throw ValidationError("--scarce must be 0 to 1000000000") }
        guard [pay, cancel, race].allSatisfy({ (0...1).contains($0) }), pay + cancel + race <= 1 else {
            throw ValidationError("--pay, --cancel and --race are shares from 0 to 1 that add up to at most 1")
        }
    }

    func run() async throws {
        let token = try await adminToken()
        let orders = try HTTPConnection(url: orderURL, token: token)
        let customerService = try HTTPConnection(url: customerURL, token: token)
        let invoices = try HTTPConnection(url: invoiceURL, token: token)
        let memory = MemorySampler(processes: MercatoService.all.map(\.name))

        let customerIDs = try await createCustomers(customerService)
        let catalog = try HTTPConnection(url: catalogURL, token: token)
        let skus = try await createProducts(catalog)
        let recorder = LoadRecorder(count: count, duration: .seconds(duration), rate: rate)
        let sampling = Task { await memory.sample(every: .milliseconds(500)) }
        let progress = quiet ? nil : Task { await Self.showProgress(recorder) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for client in 0..<concurrency {
                group.addTask {
                    try await Self.placeOrders(
                        orders, client: client, customers: customerIDs, products: skus, recorder: recorder,
                        shedPause: .milliseconds(shedPauseMs))
                }
            }
            try await group.waitForAll()
        }
        let loadEnd = ContinuousClock.now
        let loadEndDate = Date()
        progress?.cancel()
        if !quiet { FileHandle.standardError.write(Data("\n".utf8)) }

        let accepted = recorder.accepted
        let elapsed = loadEnd - recorder.start
        // Which orders lost the race for the scarce product: the catalog's word, before the mix
        // pays or cancels (an order cancelled for stock is never invoiced, so never paid).
        let stock =
            skus.scarce == nil
            ? StockOutcome()
            : try await StockOutcome.resolve(
                accepted.filter(\.scarce), orders: orders, clients: max(4, concurrency / 2),
                deadline: .now + .seconds(settleTimeout))
        let mix = LoadMix(pay: pay, cancel: cancel, race: race)
        var mixed: LoadMix.Outcome?
        if !mix.isEmpty {
            if !quiet { FileHandle.standardError.write(Data("paying and cancelling…\n".utf8)) }
            mixed = try await mix.run(
                accepted.filter { !stock.rejected.contains($0.orderID) }, orders: orders, invoices: invoices,
                clients: max(4, concurrency), deadline: .now + .seconds(settleTimeout))
        }
        var states = mixed?.expected ?? [:]
        for id in stock.rejected { states[id] = "cancelled" }
        var check = try await LoadCheck.run(
            accepted: accepted, customers: customerIDs, orders: orders, customerService: customerService,
            invoices: invoices,
            clients: max(4, concurrency / 2), timeout: .seconds(settleTimeout), states: states)
        if let scarceSKU = skus.scarce {
            check.problems += try await stock.check(
                scarceSKU, units: scarce,
                winners: accepted.filter { $0.scarce && !stock.rejected.contains($0.orderID) },
                states: states, catalog: catalog, deadline: .now + .seconds(settleTimeout))
            check.settled = check.problems.isEmpty
        }
        let checked = ContinuousClock.now - loadEnd
        sampling.cancel()

        let report = LoadReport(
            clients: concurrency, targetRate: rate, seconds: elapsed.seconds, accepted: accepted.count,
            shed: recorder.shed, errors: recorder.errors,
            stock: skus.scarce.map { _ in (refused: recorder.outOfStock, rejected: stock.rejected.count) },
            http: recorder.latency, orderToInvoice: check.orderToInvoice,
            settleSeconds: max(0, check.lastEffect.timeIntervalSince(loadEndDate)), checkSeconds: checked.seconds,
            settled: check.settled,
            problems: check.problems, peakRSS: memory.peaks,
            mix: mixed.map { $0.summary + ", refunded \(check.refunds)" })
        print(json ? report.json : report.text)
        var balanced = true
        if audit {
            let ids = Set(accepted.compactMap { UUID(uuidString: $0.orderID) })
            let books = try await auditOptions.withAuditor {
                try await $0.audit(accepted: ids, settlingWithin: .seconds(settleTimeout))
            }
            // On stderr with --json, whose stdout is the load report alone.
            if json { FileHandle.standardError.write(Data("\(books)\n".utf8)) } else { print("audit:\n\(books)") }
            balanced = books.isClean
        }
        if !check.problems.isEmpty || accepted.isEmpty || !balanced { throw ExitCode(1) }
    }

    /// One client: its own connection, one order at a time, reconnecting after a failure.
    private static func placeOrders(
        _ service: HTTPConnection, client: Int, customers: [String], products: Products, recorder: LoadRecorder,
        shedPause: Duration
    ) async throws {
        var sequence = 0
        var done = false
        while !done {
            do {
                try await service.withConnection { send in
                    while let slot = recorder.nextSlot() {
                        if slot > .now { try await Task.sleep(until: slot) }
                        sequence += 1
                        let customer = (client * 7919 + sequence) % customers.count
                        var items = (0...(sequence % 3)).map { line in
                            [
                                "sku": products.plentiful[line % products.plentiful.count],
                                "quantity": 1 + (sequence + line) % 5,
                            ] as [String: Any]
                        }
                        let scarce = products.scarce != nil && sequence % 5 == 0
                        if scarce { items.append(["sku": products.scarce!, "quantity": 1]) }
                        let body = try JSONSerialization.data(withJSONObject: [
                            "customer_id": customers[customer], "items": items,
                        ])
                        let response = try await send(.POST, "/orders", ByteBuffer(bytes: body))
                        let latency = ContinuousClock.now - slot
                        if response.status == 201, let object = response.json(), let id = object["id"] as? String,
                            let created = (object["created_at"] as? String).flatMap(EventCoding.parseTimestamp)
                        {
                            recorder.record(
                                latency: latency,
                                accepted: .init(orderID: id, customer: customer, createdAt: created, scarce: scarce),
                                error: nil)
                        } else if response.status == 409,
                            (response.json()?["error"] as? [String: Any])?["code"] as? String == "out_of_stock"
                        {
                            recorder.recordOutOfStock(latency: latency)
                        } else if response.status == 503,
                            (response.json()?["error"] as? [String: Any])?["code"] as? String == "overloaded"
                        {
                            // Shed by admission control before any work: counted, kept out of
                            // the latency of the orders placed, and this client backs off.
                            recorder.recordShed()
                            try await Task.sleep(for: shedPause)
                        } else {
                            recorder.record(latency: latency, accepted: nil, error: "HTTP \(response.status)")
                        }
                    }
                }
                done = true
            } catch {
                recorder.record(latency: .zero, accepted: nil, error: "connection: \(type(of: error))")
                try await Task.sleep(for: .milliseconds(100))
            }
        }
    }

    private static func showProgress(_ recorder: LoadRecorder) async {
        var last = (time: ContinuousClock.now, accepted: 0)
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(1))
            let now = ContinuousClock.now
            let (accepted, errors, p99) = recorder.progress
            let rate = Double(accepted - last.accepted) / (now - last.time).seconds
            last = (now, accepted)
            let line = String(
                format: "\r%5.0f s  %8d accepted  %7.0f orders/s  %5d errors  HTTP p99 %7.1f ms ",
                (now - recorder.start).seconds, accepted, rate, errors,
                Double(p99) / 1000)
            FileHandle.standardError.write(Data(line.utf8))
        }
    }
}

extension Duration {
    /// The duration in seconds, as a Double.
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
