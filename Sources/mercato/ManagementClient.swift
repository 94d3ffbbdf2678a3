import Contracts
import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The RabbitMQ management HTTP API.
struct ManagementClient: Sendable {
    let base: URL
    let authorization: String
    let virtualHost: String

    /// `url` is `http://user:password@host:port`; the credentials become Basic authentication.
    init(url: String, virtualHost: String) throws {
        guard var components = URLComponents(string: url), let host = components.host, !host.isEmpty else {
            throw ValidationFailure("--management-url must be http://user:password@host:port, got \(url)")
        }
        let user = components.user?.removingPercentEncoding ?? "guest"
        let password = components.password?.removingPercentEncoding ?? "guest"
        components.user = nil
        components.password = nil
        components.path = ""
        guard let base = components.url else { throw ValidationFailure("--management-url is not a URL: \(url)") }
        self.base = base
        self.authorization = "Basic " + Data("\(user):\(password)".utf8).base64EncodedString()
        self.virtualHost = virtualHost
    }

    /// The session of every request: one that gives up on authentication challenges.
    private static let session = URLSession(configuration: .ephemeral, delegate: ChallengeRefusal(), delegateQueue: nil)

    var encodedVirtualHost: String {
        virtualHost.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? virtualHost
    }

    func get<T: Decodable>(_ path: String, as type: T.Type) async throws -> T {
        var (data, status) = try await send("GET", path)
        // A busy broker's management API answers 5xx now and then (its statistics database
        // behind while vhosts come and go): a read is asked again, twice.
        for attempt in 1...2 where (500...599).contains(status) {
            try await Task.sleep(for: .seconds(attempt))
            (data, status) = try await send("GET", path)
        }
        guard status == 200 else {
            throw ValidationFailure(
                "the management API at \(base.absoluteString) answered \(status) to GET \(path): \(FailureMessage.oneLine(String(decoding: data.prefix(200), as: UTF8.self)))"
            )
        }
        return try JSONDecoder().decode(T.self, from: data)
    }

    func send(_ method: String, _ path: String, json: Any? = nil) async throws -> (Data, Int) {
        var request = URLRequest(url: URL(string: base.absoluteString + path)!)
        request.httpMethod = method
        // A loaded broker's management API can take many seconds to list a big vhost.
        request.timeoutInterval = 60
        request.setValue(authorization, forHTTPHeaderField: "Authorization")
        if let json {
            request.httpBody = try JSONSerialization.data(withJSONObject: json)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        do {
            let (data, response) = try await Self.session.data(for: request)
            return (data, (response as? HTTPURLResponse)?.statusCode ?? 0)
        } catch let error as URLError where error.code == .cancelled && !Task.isCancelled {
            // Only ChallengeRefusal cancels a request: the API answered 401.
            throw ValidationFailure(
                "the management API at \(base.absoluteString) refused the user and password it was given (401)")
        } catch let error as URLError {
            // `base` holds no credentials.
            throw ValidationFailure(
                "cannot reach the management API at \(base.absoluteString) (\(FailureMessage.reason(error)))")
        }
    }

    struct Exchange: Decodable {
        var name: String
        var type: String
        var durable: Bool
    }

    struct Queue: Decodable {
        var name: String
        var type: String?
        var durable: Bool
        var messages: Int?
        var messagesReady: Int?
        var messagesUnacknowledged: Int?
        var consumers: Int?
        var arguments: [String: JSONValue]?

        enum CodingKeys: String, CodingKey {
            case name, type, durable, messages, consumers, arguments
            case messagesReady = "messages_ready"
            case messagesUnacknowledged = "messages_unacknowledged"
        }
    }

    struct Binding: Decodable {
        var source: String
        var destination: String
        var destinationType: String
        var routingKey: String

        enum CodingKeys: String, CodingKey {
            case source, destination
            case destinationType = "destination_type"
            case routingKey = "routing_key"
        }
    }

    /// A message read with the management API's "get" (requeued, so it stays in place).
    struct PeekedMessage: Decodable {
        var payload: String
        var payloadEncoding: String
        var properties: Properties

        struct Properties: Decodable {
            var messageID: String?
            var type: String?
            var headers: [String: JSONValue]?

            enum CodingKeys: String, CodingKey {
                case messageID = "message_id"
                case type, headers
            }
        }

        enum CodingKeys: String, CodingKey {
            case payload, properties
            case payloadEncoding = "payload_encoding"
        }

        var messageID: String { properties.messageID ?? "-" }
        var type: String { properties.type ?? "-" }
        var headers: [String: JSONValue] { properties.headers ?? [:] }
        func header(_ name: String) -> String { headers[name]?.description ?? "-" }

        var prettyBody: String {
            let data = payloadEncoding == "base64" ? (Data(base64Encoded: payload) ?? Data()) : Data(payload.utf8)
            if let object = try? JSONSerialization.jsonObject(with: data),
                let pretty = try? JSONSerialization.data(
                    withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
            {
                return String(decoding: pretty, as: UTF8.self)
            }
            return String(decoding: data, as: UTF8.self)
        }
    }

    /// Up to `count` messages of `queue`, left in the queue.
    func peek(_ queue: String, count: Int) async throws -> [PeekedMessage] {
        let (data, status) = try await send(
            "POST", "/api/queues/\(encodedVirtualHost)/\(queue)/get",
            json: ["count": count, "ackmode": "ack_requeue_true", "encoding": "auto", "truncate": 50_000]
                as [String: Any])
        guard status == 200 else {
            throw ValidationFailure(
                "reading \(queue) answered \(status): \(String(decoding: data.prefix(200), as: UTF8.self))")
        }
        return try JSONDecoder().decode([PeekedMessage].self, from: data)
    }

    /// Declares a durable classic `queue` that RabbitMQ deletes by itself once unused for
    /// `expiresAfter` (`x-expires`): a benchmark interrupted before its clean-up leaves
    /// nothing behind for long. Declared here rather than through a `Broker`, which would
    /// remember it and declare it again on each new connection, after it was deleted.
    func declareQueue(_ queue: String, expiresAfter: Duration) async throws {
        let milliseconds =
            expiresAfter.components.seconds * 1000 + expiresAfter.components.attoseconds / 1_000_000_000_000_000
        let (data, status) = try await send(
            "PUT", "/api/queues/\(encodedVirtualHost)/\(queue)",
            json: [
                "durable": true, "auto_delete": false,
                "arguments": ["x-expires": milliseconds, "x-queue-type": "classic"],
            ] as [String: Any])
        guard (200..<300).contains(status) else {
            throw ValidationFailure(
                "declaring \(queue) answered \(status): \(String(decoding: data.prefix(200), as: UTF8.self))")
        }
    }

    /// Deletes `queue` (benchmarks clean up after themselves).
    func deleteQueue(_ queue: String) async throws {
        let (data, status) = try await send("DELETE", "/api/queues/\(encodedVirtualHost)/\(queue)")
        guard (200..<300).contains(status) || status == 404 else {
            throw ValidationFailure(
                "deleting \(queue) answered \(status): \(String(decoding: data.prefix(200), as: UTF8.self))")
        }
    }

    /// Creates or updates `permission`'s user with `password` (no tags: it cannot use the
    /// management UI) and sets its permissions on this virtual host.
    func apply(_ permission: BrokerPermission, password: String) async throws {
        let user = permission.user.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? permission.user
        let (_, created) = try await send("PUT", "/api/users/\(user)", json: ["password": password, "tags": ""])
        let (_, granted) = try await send(
            "PUT", "/api/permissions/\(encodedVirtualHost)/\(user)",
            json: ["configure": permission.configure, "write": permission.write, "read": permission.read])
        guard (200..<300).contains(created), (200..<300).contains(granted) else {
            throw ValidationFailure("could not set up the broker user \(permission.user): \(created), \(granted)")
        }
    }

    func exchanges() async throws -> [Exchange] {
        try await get("/api/exchanges/\(encodedVirtualHost)", as: [Exchange].self)
    }
    func queues() async throws -> [Queue] { try await get("/api/queues/\(encodedVirtualHost)", as: [Queue].self) }
    func bindings() async throws -> [Binding] {
        try await get("/api/bindings/\(encodedVirtualHost)", as: [Binding].self)
    }
}

/// Any JSON value, for the free-form parts of management API answers.
enum JSONValue: Decodable, CustomStringConvertible {
    case string(String)
    case number(Double)
    case bool(Bool)
    case object([String: JSONValue])
    case array([JSONValue])
    case null

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    var description: String {
        switch self {
        case .string(let value): value
        case .number(let value): value == value.rounded() ? String(Int(value)) : String(value)
        case .bool(let value): String(value)
        case .object(let value): "{" + value.map { "\($0): \($1)" }.sorted().joined(separator: ", ") + "}"
        case .array(let value): "[" + value.map(\.description).joined(separator: ", ") + "]"
        case .null: "null"
        }
    }
}

/// A failure the command reports in one line and exits non-zero for.
struct ValidationFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
