import Foundation
import MercatoTesting
import Postgres
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// A fuzz pass over every endpoint of the three running services: malformed and truncated
/// JSON, wrong types, huge numbers, zero and negative quantities, unicode and control
/// characters, SQL-looking strings, oversized bodies, wrong content types, odd paths and
/// query strings — hand-picked cases first, then seeded random mutations of valid bodies.
///
/// The oracle: never a 5xx; every 4xx carries the JSON error body (a 422 names its field);
/// what was refused left nothing behind (the databases hold exactly the accepted requests);
/// and the services are still ready afterwards.
@Suite(.needsSystem, .systemSlot, .serialized, .timeLimit(.minutes(10)))
struct HTTPFuzzSystemTests {
    /// Fixed, so a failure replays; `MERCATO_FUZZ_SEED` explores others.
    static let seed = UInt64(MercatoSystem.environment["MERCATO_FUZZ_SEED"] ?? "") ?? 20_261_124
    static let randomCases = Int(MercatoSystem.environment["MERCATO_FUZZ_CASES"] ?? "") ?? 600

    @Test func everyEndpointAnswersBadInputWithAClientError() async throws {
        let system = try await MercatoSystem.start()
        var fuzzer = Fuzzer(system: system)
        let customer = OrderFlowSystemTests.seeds[0]
        let sku = try await system.stockedSKU(name: "Tea", price: "3.50")
        let validOrder: [String: Any] = ["customer_id": customer, "items": [["sku": sku, "quantity": 2]]]
        let validCustomer: [String: Any] = ["name": "Ada", "email": "ada@example.com", "address": "London"]
        let orderText = String(
            decoding: try JSONSerialization.data(withJSONObject: validOrder, options: .sortedKeys), as: UTF8.self)

        // Malformed and truncated JSON: every proper prefix of a valid body, and garbage.
        for length in 0..<orderText.count {
            try await fuzzer.send(.order, "POST", "/orders", text: String(orderText.prefix(length)), expect: [400])
        }
        for garbage in [
            "nul", "[]", "\"text\"", "42", "{\"customer_id\":}", "{'single': 'quotes'}", "{\"a\":1,}", "\u{FEFF}{}",
            "{\"items\":[{]}",
        ] {
            try await fuzzer.send(.order, "POST", "/orders", text: garbage, expect: [400, 422])
            try await fuzzer.send(.customer, "POST", "/customers", text: garbage, expect: [400, 422])
        }
        try await fuzzer.send(.order, "POST", "/orders", body: Data([0xFF, 0xFE, 0x00, 0x7B]), expect: [400])

        // Wrong types, huge numbers, zero and negative values, named by field.
        let oddValues: [Any] = [
            NSNull(), true, 0, -1, 1.5, "text", [Any](), [String: Any](), "1e400", 1e308, Fuzzer.huge,
        ]
        for value in oddValues {
            try await fuzzer.send(
                .order, "POST", "/orders", json: ["customer_id": value, "items": validOrder["items"]!], expect: [422],
                field: "customer_id")
            try await fuzzer.send(
                .order, "POST", "/orders", json: ["customer_id": customer, "items": value], expect: [422],
                field: "items")
            for key in ["sku", "quantity"] {
                var item = (validOrder["items"] as! [[String: Any]])[0]
                item[key] = value
                try await fuzzer.send(
                    .order, "POST", "/orders", json: ["customer_id": customer, "items": [item]], expect: [201, 422],
                    field: "items[0].\(key)")
            }
            // What the catalog decides, a client may not send, whatever its value.
            for key in ["unit_price", "product_name"] {
                var item = (validOrder["items"] as! [[String: Any]])[0]
                item[key] = value
                try await fuzzer.send(
                    .order, "POST", "/orders", json: ["customer_id": customer, "items": [item]], expect: [422],
                    field: "items[0].\(key)")
            }
            for key in ["name", "email", "address"] {
                var body = validCustomer
                body[key] = value
                try await fuzzer.send(.customer, "POST", "/customers", json: body, expect: [201, 409, 422], field: key)
            }
        }
        for quantity in [0, -3, 10_001] {
            try await fuzzer.send(
                .order, "POST", "/orders",
                json: ["customer_id": customer, "items": [["sku": sku, "quantity": quantity]]],
                expect: [422], field: "items[0].quantity")
        }
        for price in ["0", "-0.01", "1.001", "1000000.01", "NaN"] {
            try await fuzzer.send(
                .catalog, "POST", "/products", json: ["sku": "FUZZ-PEN", "name": "Pen", "price": price], expect: [422],
                field: "price")
        }
        try await fuzzer.send(
            .order, "POST", "/orders", json: ["customer_id": customer, "items": []], expect: [422], field: "items")
        try await fuzzer.send(
            .order, "POST", "/orders", json: ["customer_id": UUID().uuidString, "items": validOrder["items"]!],
            expect: [422], field: "customer_id")

        // Unicode and control characters; SQL-looking strings are data like any other.
        for text in Fuzzer.strings {
            try await fuzzer.send(
                .order, "POST", "/orders", json: ["customer_id": customer, "items": [["sku": text, "quantity": 1]]],
                expect: [422], field: "items[0].sku")
            try await fuzzer.send(
                .catalog, "POST", "/products", json: ["sku": "FUZZ-\(fuzzer.sent)", "name": text, "price": "1.00"],
                expect: [201, 422], field: "name")
            try await fuzzer.send(
                .customer, "POST", "/customers",
                json: ["name": text, "email": "u\(fuzzer.sent)@example.com", "address": "A"], expect: [201, 422],
                field: "name")
        }
        let injection = "Robert'); DROP TABLE orders;--"
        let (status, order) = try await system.placeOrder(customer: customer, items: [(injection, 1, "1.00")])
        #expect(status == 201)
        fuzzer.acceptedOrders += 1
        let id = try #require(order["id"] as? String)
        let (_, stored) = try await system.request(.order, "GET", "/orders/\(id)")
        #expect(
            (((stored as? [String: Any])?["items"] as? [[String: Any]])?.first?["product_name"] as? String) == injection
        )

        // Size and content type.
        let oversized: [String: Any] = [
            "customer_id": customer,
            "items": [["sku": String(repeating: "X", count: 70_000), "quantity": 1]],
        ]
        try await fuzzer.send(.order, "POST", "/orders", json: oversized, expect: [413])
        try await fuzzer.send(
            .customer, "POST", "/customers", text: "{\"name\":\"" + String(repeating: "y", count: 70_000) + "\"}",
            expect: [413])
        for contentType in ["text/plain", "application/xml", "application/x-www-form-urlencoded", ""] {
            try await fuzzer.send(.order, "POST", "/orders", text: orderText, contentType: contentType, expect: [415])
            try await fuzzer.send(.customer, "POST", "/customers", text: "{}", contentType: contentType, expect: [415])
        }

        // Paths and query strings of the read endpoints.
        for (service, resource) in [
            (MercatoSystem.Service.order, "orders"), (.customer, "customers"), (.invoice, "invoices"),
            (.catalog, "products"),
        ] {
            for id in [
                "not-a-uuid", "%00", "'%20OR%201=1--", "00000000-0000-0000-0000-000000000000",
                String(repeating: "a", count: 2000), "%F0%9F%92%A5",
            ] {
                try await fuzzer.send(service, "GET", "/\(resource)/\(id)", expect: [400, 404, 422])
            }
            for query in [
                "limit=0", "limit=-1", "limit=abc", "limit=100000", "limit=1e3", "after=garbage", "after=%00",
                "limit=5&after=",
            ] {
                try await fuzzer.send(service, "GET", "/\(resource)?\(query)", expect: [400, 422])
            }
        }
        for query in ["customer_id=nope", "customer_id=%27%3B--"] {
            try await fuzzer.send(.order, "GET", "/orders?\(query)", expect: [400, 422])
        }
        for query in ["order_id=nope", "order_id="] {
            try await fuzzer.send(.invoice, "GET", "/invoices?\(query)", expect: [400, 422])
        }

        // Seeded random mutations of valid bodies.
        var random = SplitMix64(seed: Self.seed)
        for _ in 0..<Self.randomCases {
            if random.next() % 4 == 0 {
                try await fuzzer.send(
                    .customer, "POST", "/customers", json: Fuzzer.mutate(validCustomer, sku: sku, &random),
                    expect: [201, 400, 409, 422])
            } else {
                try await fuzzer.send(
                    .order, "POST", "/orders", json: Fuzzer.mutate(validOrder, sku: sku, &random),
                    expect: [201, 400, 422])
            }
        }

        // Nothing refused left anything behind, and every service is still ready.
        let orders = try await system.database(.order).query("SELECT count(*) FROM orders")[0].decode(Int.self, at: 0)
        let events = try await system.database(.order).query(
            "SELECT count(*) FROM outbox WHERE event_type = 'order.created'")[0].decode(Int.self, at: 0)
        let customers = try await system.database(.customer).query("SELECT count(*) FROM customers")[0].decode(
            Int.self, at: 0)
        #expect(orders == fuzzer.acceptedOrders)
        #expect(events == fuzzer.acceptedOrders)
        #expect(customers == OrderFlowSystemTests.seeds.count + fuzzer.acceptedCustomers)
        let products = try await system.database(.catalog).query(
            "SELECT count(*) FROM products WHERE sku LIKE 'FUZZ-%'")[0].decode(Int.self, at: 0)
        #expect(products == fuzzer.acceptedProducts)
        for service in MercatoSystem.Service.allCases { try await system.waitUntilReady(service) }
        try await system.expectSettled(orders: fuzzer.acceptedOrders)
        print(
            "http-fuzz: \(fuzzer.sent) requests, seed \(Self.seed): \(fuzzer.statuses.sorted { $0.key < $1.key }.map { "\($0.key) ×\($0.value)" }.joined(separator: ", "))"
        )
        await system.shutdown()
    }
}

/// Sends requests and checks each answer against the oracle.
struct Fuzzer {
    let system: MercatoSystem
    var sent = 0
    var acceptedOrders = 0
    var acceptedCustomers = 0
    var acceptedProducts = 0
    var statuses: [Int: Int] = [:]

    init(system: MercatoSystem) { self.system = system }

    /// A number no integer type holds.
    static let huge = Decimal(string: "123456789012345678901234567890123456789")!

    static let strings: [String] = [
        "", " ", "\t", "Ünïcødé ☕ 茶 🍵", "e\u{301}", "\u{202E}evil", "zero\u{200B}width", "nul\u{0}byte", "line\nbreak",
        "bell\u{7}",
        "\u{1F468}\u{200D}\u{1F469}\u{200D}\u{1F467}", "' OR '1'='1", "\"; DELETE FROM customers; --", "$1", "%s%s%n",
        "\\u0000",
        String(repeating: "w", count: 201), String(repeating: "é", count: 200), "\u{FFFF}", "\u{10FFFF}",
        "<script>alert(1)</script>",
    ]

    mutating func send(
        _ service: MercatoSystem.Service, _ method: String, _ path: String, json: Any, expect: Set<Int>,
        field: String? = nil
    ) async throws {
        let body = try JSONSerialization.data(withJSONObject: json, options: [.fragmentsAllowed])
        try await send(service, method, path, body: body, expect: expect, field: field)
    }

    mutating func send(
        _ service: MercatoSystem.Service, _ method: String, _ path: String, text: String,
        contentType: String = "application/json",
        expect: Set<Int>, field: String? = nil
    ) async throws {
        try await send(
            service, method, path, body: Data(text.utf8), contentType: contentType, expect: expect, field: field)
    }

    mutating func send(
        _ service: MercatoSystem.Service, _ method: String, _ path: String, body: Data? = nil,
        contentType: String = "application/json",
        expect: Set<Int>, field: String? = nil
    ) async throws {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(system.ports[service]!)\(path)")!)
        request.httpMethod = method
        request.setValue("Bearer \(system.adminToken)", forHTTPHeaderField: "Authorization")
        if let body {
            request.httpBody = body
            if !contentType.isEmpty { request.setValue(contentType, forHTTPHeaderField: "Content-Type") }
        }
        let (data, response) = try await MercatoSystem.session.data(for: request)
        let status = (response as! HTTPURLResponse).statusCode
        sent += 1
        statuses[status, default: 0] += 1
        let what =
            "\(method) \(path) \(String(decoding: (body ?? Data()).prefix(160), as: UTF8.self)) → \(status) \(String(decoding: data.prefix(300), as: UTF8.self))"
        #expect(status < 500, "server error: \(what)")
        #expect(expect.contains(status), "unexpected status: \(what)")
        if status == 201 {
            if path == "/orders" { acceptedOrders += 1 }
            if path == "/customers" { acceptedCustomers += 1 }
            if path == "/products" { acceptedProducts += 1 }
            return
        }
        guard (400..<500).contains(status) else { return }
        let error = (try? JSONSerialization.jsonObject(with: data) as? [String: Any])?["error"] as? [String: Any]
        #expect(error?["code"] is String && error?["message"] is String, "no JSON error body: \(what)")
        if status == 422 {
            let named = error?["field"] as? String
            #expect(named?.isEmpty == false, "a 422 without the field: \(what)")
            if let field {
                #expect(
                    named?.hasPrefix(field) == true || field.hasPrefix(named ?? "-"), "expected field \(field): \(what)"
                )
            }
        }
    }

    /// `body` with one to three random changes: a field removed, replaced by a random value,
    /// an unknown field added, or the items replaced by random ones.
    static func mutate(_ body: [String: Any], sku: String, _ random: inout SplitMix64) -> [String: Any] {
        var body = body
        for _ in 0...(random.next() % 3) {
            let keys = Array(body.keys).sorted()
            guard !keys.isEmpty else { break }
            switch random.next() % 5 {
            case 0: body.removeValue(forKey: keys[Int(random.next() % UInt64(keys.count))])
            case 1: body[keys[Int(random.next() % UInt64(keys.count))]] = value(&random, depth: 2)
            case 2: body["extra_\(random.next() % 10)"] = value(&random, depth: 1)
            default:
                guard body["items"] != nil else { continue }
                body["items"] = (0..<Int(random.next() % 4)).map { _ -> Any in
                    var item: [String: Any] = ["sku": sku, "quantity": 1]
                    let key = ["sku", "quantity", "unit_price"][Int(random.next() % 3)]
                    item[key] = value(&random, depth: 1)
                    return random.next() % 10 == 0 ? value(&random, depth: 1) : item
                }
            }
        }
        return body
    }

    /// A random JSON value, weighted towards the awkward ones.
    static func value(_ random: inout SplitMix64, depth: Int) -> Any {
        switch random.next() % (depth > 0 ? 10 : 8) {
        case 0: return NSNull()
        case 1: return random.next() % 2 == 0
        case 2: return [0, -1, 1, 2, 10_000, 10_001, Int.max, Int.min][Int(random.next() % 8)]
        case 3: return [1.5, -0.0, 1e308, 1e-30, 0.1, 99.999][Int(random.next() % 6)]
        case 4: return strings[Int(random.next() % UInt64(strings.count))]
        case 5: return ["0", "1.00", "-1", "1e400", "0.005", "1000000", "abc", " 1.00"][Int(random.next() % 8)]
        case 6: return [UUID().uuidString, OrderFlowSystemTests.seeds[1], "c0ffee00"][Int(random.next() % 3)]
        case 7: return huge
        case 8: return (0..<Int(random.next() % 3)).map { _ in value(&random, depth: depth - 1) }
        default: return ["k": value(&random, depth: depth - 1)]
        }
    }
}

/// A small, fast, seedable generator (Steele, Lea and Flood's SplitMix64).
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
