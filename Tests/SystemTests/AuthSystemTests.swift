import Foundation
import MercatoTesting
import Postgres
import ServiceKit
import Testing

/// Who gets in, against the real services, their real databases and RabbitMQ: every protected
/// route refuses every kind of bad token, and a customer's token sees and acts on its own
/// customer only. A refused request writes nothing.
@Suite(.needsSystem, .systemSlot, .serialized, .timeLimit(.minutes(10)))
struct AuthSystemTests {
    typealias Service = MercatoSystem.Service

    /// Every protected operation, with a body where it takes one.
    static func routes(customer: String) -> [(Service, String, String, Any?, Scope)] {
        let id = UUID().uuidString.lowercased()
        return [
            (
                .order, "POST", "/orders",
                ["customer_id": customer, "items": [["sku": "TEA-1-00", "quantity": 1]]], .ordersWrite
            ),
            (
                .catalog, "POST", "/products", ["sku": "MALLORY-\(id.prefix(8))", "name": "Gift", "price": "0.01"],
                .catalogWrite
            ),
            (.catalog, "PATCH", "/products/TEA-1-00", ["price": "0.01"], .catalogWrite),
            (
                .catalog, "POST", "/products/TEA-1-00/stock", ["kind": "received", "quantity": 5, "reason": "x"],
                .catalogWrite
            ),
            (.order, "GET", "/orders", nil, .ordersRead),
            (.order, "GET", "/orders/\(id)", nil, .ordersRead),
            (
                .customer, "POST", "/customers",
                ["name": "Mallory", "email": "mallory-\(id)@example.com", "address": "Nowhere"], .customersWrite
            ),
            (.customer, "GET", "/customers", nil, .customersRead),
            (.customer, "GET", "/customers/\(id)", nil, .customersRead),
            (.invoice, "GET", "/invoices", nil, .invoicesRead),
            (.invoice, "GET", "/invoices/\(id)", nil, .invoicesRead),
        ]
    }

    /// Rows that a refused request must not add.
    static func rowCounts(_ system: MercatoSystem) async throws -> [Int] {
        var counts: [Int] = []
        for (service, table) in [
            (Service.order, "orders"), (.customer, "customers"), (.invoice, "invoices"), (.catalog, "products"),
        ] {
            counts.append(
                try await system.database(service).query("SELECT count(*) FROM \(table)")[0].decode(Int.self, at: 0))
            counts.append(
                try await system.database(service).query("SELECT count(*) FROM outbox")[0].decode(Int.self, at: 0))
        }
        return counts
    }

    @Test func everyProtectedRouteRefusesEveryBadToken() async throws {
        let rsa = try TestTokens.RSAKey(kid: "rsa-2026")
        let jwks = FileManager.default.temporaryDirectory.appendingPathComponent("jwks-\(UUID().uuidString).json")
        try TestTokens.jwks([rsa.publicJWK]).write(to: jwks, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: jwks) }
        let system = try await MercatoSystem.start(environment: ["AUTH_JWKS_FILE": jwks.path])
        let tokens = system.tokens
        let customer = OrderFlowSystemTests.seeds[0]

        let now = Date().timeIntervalSince1970
        func claims(_ edit: (inout TestTokens.Claims) -> Void) -> TestTokens.Claims {
            var claims = tokens.claims(sub: "operator", scopes: Scope.all)
            edit(&claims)
            return claims
        }
        let invalid: [(String, String?)] = [
            ("none", nil),
            ("malformed", "eyJhbGciOiJIUzI1NiJ9.not-json.sig"),
            ("expired", try await tokens.sign(claims { $0.exp = now - 3600 })),
            ("not yet valid", try await tokens.sign(claims { $0.nbf = now + 3600 })),
            ("wrong issuer", try await tokens.sign(claims { $0.iss = "https://evil.example.com/" })),
            ("wrong audience", try await tokens.sign(claims { $0.aud = ["another-api"] })),
            ("alg none", try await TestTokens.unsigned(claims { _ in })),
            (
                "HS256 signed with the RSA public key",
                try await TestTokens.sign(claims { _ in }, hmacKey: rsa.publicKeyPEM, kid: rsa.kid)
            ),
            ("wrong key", try await TestTokens.sign(claims { _ in }, hmacKey: TestTokens.randomSecret())),
            ("unknown kid", try await TestTokens.RSAKey(kid: "rsa-unknown").sign(claims { _ in })),
        ]
        let before = try await Self.rowCounts(system)
        for (service, method, path, body, scope) in Self.routes(customer: customer) {
            for (name, token) in invalid {
                let (status, json) = try await system.request(
                    service, method, path, json: body, headers: ["Authorization": token.map { "Bearer \($0)" } ?? ""])
                #expect(status == 401, "\(method) \(path) with \(name) token")
                #expect(
                    ((json as? [String: Any])?["error"] as? [String: Any])?["code"] as? String
                        == (token == nil ? "unauthenticated" : "invalid_token"))
            }
            let others = Scope.all.filter { $0 != scope }
            let unscoped = try await tokens.token(sub: "operator", scopes: others)
            let (status, _) = try await system.request(
                service, method, path, json: body, headers: ["Authorization": "Bearer \(unscoped)"])
            #expect(status == 403, "\(method) \(path) without \(scope)")
        }
        #expect(try await Self.rowCounts(system) == before, "a refused request wrote something")

        // The identity provider's RS256 key, chosen by kid, is accepted beside the secret.
        let rs256 = try await rsa.sign(tokens.claims(sub: "operator", scopes: Scope.all))
        #expect(
            try await system.request(.order, "GET", "/orders", headers: ["Authorization": "Bearer \(rs256)"]).0 == 200)
        #expect(
            try await system.request(.invoice, "GET", "/invoices", headers: ["Authorization": "Bearer \(rs256)"]).0
                == 200)
        await system.shutdown()
    }

    /// `mercato token` signs with the development secret, and with a private key whose public
    /// half the services read from their JWKS: both open what their scopes allow.
    @Test func mercatoTokenMintsTokensTheServicesAccept() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("token-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let pem = directory.appendingPathComponent("signing.pem")
        let generated = try await runProcess(
            ["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", pem.path],
            mergingStandardError: true)
        try #require(generated.status == 0, "\(generated.output)")
        let key = try TestTokens.ECKey(pem: String(contentsOf: pem, encoding: .utf8), kid: "dev-es256")
        let jwks = directory.appendingPathComponent("jwks.json")
        try TestTokens.jwks([key.publicJWK]).write(to: jwks, atomically: true, encoding: .utf8)
        let secret = directory.appendingPathComponent("secret")
        let system = try await MercatoSystem.start(environment: ["AUTH_JWKS_FILE": jwks.path])
        try system.tokens.secret.write(to: secret, atomically: true, encoding: .utf8)

        let mercato = MercatoSystem.binDirectory.appendingPathComponent("mercato")
        func mint(_ arguments: [String]) async throws -> String {
            let result = try await runProcess(arguments, executable: mercato, environment: [:])
            try #require(result.status == 0, "\(result.output)")
            return result.output.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let hs256 = try await mint(["token", "--sub", "operator", "--scope", "admin", "--secret-file", secret.path])
        let es256 = try await mint([
            "token", "--sub", "operator", "--scope", "orders:read", "--key", pem.path, "--kid", "dev-es256",
        ])
        #expect(
            try await system.request(.customer, "GET", "/customers", headers: ["Authorization": "Bearer \(hs256)"]).0
                == 200)
        #expect(
            try await system.request(.order, "GET", "/orders", headers: ["Authorization": "Bearer \(es256)"]).0 == 200)
        #expect(
            try await system.request(.customer, "GET", "/customers", headers: ["Authorization": "Bearer \(es256)"]).0
                == 403)
        await system.shutdown()
    }

    @Test func aCustomersTokenSeesAndActsOnItsOwnCustomerOnly() async throws {
        let system = try await MercatoSystem.start()
        let tokens = system.tokens
        // Ada registers herself: her customer id is her token's sub.
        let ada = UUID()
        let bob = UUID()
        let adaToken = try await tokens.customer(ada)
        let bobToken = try await tokens.customer(bob)
        func asAda(_ service: Service, _ method: String, _ path: String, _ body: Any? = nil) async throws -> (Int, Any?)
        {
            try await system.request(
                service, method, path, json: body, headers: ["Authorization": "Bearer \(adaToken)"])
        }
        func customer(_ name: String) -> [String: String] {
            ["name": name, "email": "\(name.lowercased())-\(UUID())@example.com", "address": "London"]
        }
        let (created, adaRecord) = try await asAda(.customer, "POST", "/customers", customer("Ada"))
        #expect(created == 201 && (adaRecord as? [String: Any])?["id"] as? String == ada.uuidString.lowercased())
        #expect(try await asAda(.customer, "POST", "/customers", customer("Ada")).0 == 409, "registering twice")
        #expect(
            try await system.request(
                .customer, "POST", "/customers", json: customer("Bob"), headers: ["Authorization": "Bearer \(bobToken)"]
            ).0 == 201)

        // Each places an order; Ada cannot place one for Bob.
        let item = [["sku": try await system.stockedSKU(name: "Tea", price: "2.00"), "quantity": 1]]
        let (placed, adaOrder) = try await asAda(
            .order, "POST", "/orders", ["customer_id": ada.uuidString, "items": item])
        #expect(placed == 201)
        let adaOrderID = try #require((adaOrder as? [String: Any])?["id"] as? String)
        // (order-service's rows only: Ada's order is being invoiced meanwhile.)
        let before = try await Self.rowCounts(system).prefix(2)
        #expect(try await asAda(.order, "POST", "/orders", ["customer_id": bob.uuidString, "items": item]).0 == 403)
        #expect(try await Self.rowCounts(system).prefix(2) == before, "a refused order wrote something")
        let (_, bobOrder) = try await system.request(
            .order, "POST", "/orders", json: ["customer_id": bob.uuidString, "items": item],
            headers: ["Authorization": "Bearer \(bobToken)"])
        let bobOrderID = try #require((bobOrder as? [String: Any])?["id"] as? String)
        var bobInvoiceID = ""
        try await system.eventually("Bob's order to be invoiced") {
            let (_, page) = try await system.request(.invoice, "GET", "/invoices?order_id=\(bobOrderID)")
            bobInvoiceID = (((page as? [String: Any])?["data"] as? [[String: Any]])?.first?["id"] as? String) ?? ""
            return !bobInvoiceID.isEmpty
        }

        // Ada reads her own things; Bob's are "not found", never "forbidden".
        #expect(try await asAda(.order, "GET", "/orders/\(adaOrderID)").0 == 200)
        #expect(try await asAda(.order, "GET", "/orders/\(bobOrderID)").0 == 404)
        #expect(try await asAda(.customer, "GET", "/customers/\(ada.uuidString)").0 == 200)
        #expect(try await asAda(.customer, "GET", "/customers/\(bob.uuidString)").0 == 404)
        #expect(try await asAda(.invoice, "GET", "/invoices/\(bobInvoiceID)").0 == 404)
        #expect(
            try await system.request(.invoice, "GET", "/invoices/\(bobInvoiceID)").0 == 200,
            "an admin reads any invoice")

        // Lists hold Ada's own only, whatever she asks for.
        func ids(_ response: (Int, Any?)) -> Set<String> {
            Set(
                (((response.1 as? [String: Any])?["data"] as? [[String: Any]]) ?? []).compactMap {
                    ($0["id"] ?? $0["order_id"]) as? String
                })
        }
        #expect(ids(try await asAda(.order, "GET", "/orders")) == [adaOrderID])
        #expect(ids(try await asAda(.order, "GET", "/orders?customer_id=\(bob.uuidString)")).isEmpty)
        #expect(ids(try await asAda(.customer, "GET", "/customers")) == [ada.uuidString.lowercased()])
        #expect(ids(try await asAda(.invoice, "GET", "/invoices?order_id=\(bobOrderID)")).isEmpty)
        let adaInvoices = try await asAda(.invoice, "GET", "/invoices")
        #expect(adaInvoices.0 == 200)
        #expect(
            (((adaInvoices.1 as? [String: Any])?["data"] as? [[String: Any]]) ?? []).allSatisfy {
                $0["customer_id"] as? String == ada.uuidString.lowercased()
            })
        let everyone = try await system.request(.customer, "GET", "/customers?limit=100")
        #expect(ids(everyone).count > 2, "an admin lists every customer")
        await system.shutdown()
    }

    /// The nil UUID is no customer's id and no filter: a token whose `sub` is the nil UUID
    /// registers nobody, and a caller who may see no customer — a `sub` that is no customer
    /// id, the nil UUID, or a customer asking for another's list — gets nothing from any list
    /// or stream, even when a customer with the nil UUID exists (put in the databases by
    /// hand, as a registration before this fix could have) and has an order and an invoice.
    @Test func aCallerWhoMaySeeNoCustomerGetsNothingEvenWhenTheNilUUIDIsACustomer() async throws {
        let system = try await MercatoSystem.start(environment: ["ORDER_STREAM_HEARTBEAT_SECONDS": "1"])
        let tokens = system.tokens
        let nilUUID = "00000000-0000-0000-0000-000000000000"
        let nilSubject = try await tokens.token(sub: nilUUID, scopes: Scope.customer)
        let notACustomer = try await tokens.token(sub: "someone", scopes: Scope.customer)
        let ada = UUID()
        let adaToken = try await tokens.customer(ada)
        func request(_ service: Service, _ method: String, _ path: String, _ token: String, _ body: Any? = nil)
            async throws -> (Int, Any?)
        {
            try await system.request(service, method, path, json: body, headers: ["Authorization": "Bearer \(token)"])
        }
        let (refused, refusal) = try await request(
            .customer, "POST", "/customers", nilSubject,
            ["name": "Nil", "email": "nil-\(UUID())@example.com", "address": "Nowhere"])
        #expect(refused == 403, "a token whose sub is the nil UUID registered a customer")
        #expect(((refusal as? [String: Any])?["error"] as? [String: Any])?["field"] as? String == "sub")
        #expect(
            try await request(
                .customer, "POST", "/customers", adaToken,
                ["name": "Ada", "email": "ada-\(UUID())@example.com", "address": "London"]
            ).0 == 201)

        // The nil UUID's customer, in customer-service and in order-service's replica.
        try await system.database(.customer).query(
            "INSERT INTO customers (id, name, email, address, created_at, updated_at) VALUES ($1, 'Nil', 'nil@example.com', 'Nowhere', now(), now()) ON CONFLICT DO NOTHING",
            UUID(uuidString: nilUUID)!)
        try await system.database(.order).query(
            "INSERT INTO customers (id, name, email, address, orders_count, version, updated_at) VALUES ($1, 'Nil', 'nil@example.com', 'Nowhere', 0, 1, now()) ON CONFLICT DO NOTHING",
            UUID(uuidString: nilUUID)!)
        let (placed, order) = try await system.placeOrder(customer: nilUUID, items: [("Tea", 1, "2.00")])
        try #require(placed == 201, "\(order)")
        let orderID = try #require(order["id"] as? String)
        try await system.eventually("the nil UUID's order to be invoiced") {
            let (_, page) = try await system.request(.invoice, "GET", "/invoices?order_id=\(orderID)")
            return (((page as? [String: Any])?["data"] as? [Any]) ?? []).count == 1
        }
        let admin = try EventStreamClient(
            url: "http://127.0.0.1:\(system.ports[.order]!)/orders/stream?after=0",
            headers: ["Authorization": "Bearer \(system.adminToken)"])
        defer { admin.stop() }
        try await admin.waitFor("the admin's stream to show the order and its invoice", timeout: .seconds(60)) {
            $0.filter { $0.id != nil }.count >= 2
        }

        func data(_ response: (Int, Any?)) -> [Any]? { (response.1 as? [String: Any])?["data"] as? [Any] }
        let lists: [(String, String, Service, String)] = [
            ("a sub that is no customer id", notACustomer, .order, "/orders"),
            ("a sub that is no customer id", notACustomer, .order, "/orders?customer_id=\(nilUUID)"),
            ("a sub that is no customer id", notACustomer, .invoice, "/invoices"),
            ("a sub that is no customer id", notACustomer, .invoice, "/invoices?order_id=\(orderID)"),
            ("a sub that is no customer id", notACustomer, .customer, "/customers"),
            ("the nil UUID as sub", nilSubject, .order, "/orders"),
            ("the nil UUID as sub", nilSubject, .invoice, "/invoices"),
            ("the nil UUID as sub", nilSubject, .customer, "/customers"),
            ("a customer asking for another's list", adaToken, .order, "/orders?customer_id=\(UUID())"),
        ]
        for (who, token, service, path) in lists {
            let response = try await request(service, "GET", path, token)
            #expect(
                response.0 == 200 && data(response)?.isEmpty == true,
                "\(who): GET \(path) answered \(response.0) \(String(describing: response.1))")
        }
        #expect(try await request(.order, "GET", "/orders/\(orderID)", nilSubject).0 == 404)
        #expect(try await request(.customer, "GET", "/customers/\(nilUUID)", nilSubject).0 == 404)

        // Streams: from the first change on, nothing but comments (heartbeats, once caught up).
        for (who, token) in [("a sub that is no customer id", notACustomer), ("the nil UUID as sub", nilSubject)] {
            let stream = try EventStreamClient(
                url: "http://127.0.0.1:\(system.ports[.order]!)/orders/stream?after=0",
                headers: ["Authorization": "Bearer \(token)"])
            defer { stream.stop() }
            let events = try await stream.waitFor("\(who)'s stream to catch up", timeout: .seconds(30)) {
                $0.contains { $0.comment == "heartbeat" }
            }
            #expect(stream.status == 200)
            #expect(events.allSatisfy { $0.id == nil && $0.event == nil }, "\(who) saw \(events)")
            let summary = try EventStreamClient(
                url: "http://127.0.0.1:\(system.ports[.order]!)/orders/stream?view=summary&interval_ms=200",
                headers: ["Authorization": "Bearer \(token)"])
            defer { summary.stop() }
            let first = try #require(
                try await summary.waitFor("\(who)'s first summary", timeout: .seconds(30)) {
                    $0.contains { $0.event == "summary" }
                }.first {
                    $0.event == "summary"
                })
            #expect(
                (first.json["counts"] as? [String: Int] ?? [:]).values.allSatisfy { $0 == 0 },
                "\(who) counted \(first.json)")
            #expect((first.json["latest"] as? [Any])?.isEmpty == true, "\(who) saw \(first.json)")
        }
        await system.shutdown()
    }
}
