import Contracts
import Foundation
package import Hummingbird
package import HummingbirdAuth
package import ServiceKit

/// The live view: `GET /orders/stream` (Server-Sent Events), `GET /orders/{id}/history`,
/// `GET /queues`, and the dashboard page at `GET /live` (`GET /` leads there).
///
/// The page itself holds no data and needs no token; everything it shows comes from the
/// other three routes, which need one like every other route. The page sends it in an
/// `Authorization` header (fetch, not `EventSource`, which cannot), so no token ever
/// travels in a URL that a proxy or an access log would keep.
package struct LiveRoutes: Sendable {
    private let changeLog: any OrderChangeLog
    private let feed: OrderChangeFeed
    private let queues: QueueHealth
    private let session: OrderStreamSession.Configuration
    /// Open streams per caller.
    let streams: StreamLimiter

    /// Creates the routes; a stream with no event for `heartbeat` gets a comment; a caller may
    /// have `maxStreamsPerCaller` streams open at once.
    package init(
        changeLog: any OrderChangeLog, feed: OrderChangeFeed, queues: QueueHealth, heartbeat: Duration,
        maxStreamsPerCaller: Int = 4
    ) {
        self.changeLog = changeLog
        self.feed = feed
        self.queues = queues
        var session = OrderStreamSession.Configuration()
        session.heartbeat = heartbeat
        self.session = session
        self.streams = StreamLimiter(limit: maxStreamsPerCaller)
    }

    /// Adds the routes to `router`.
    package func add<Context: AuthRequestContext<Caller> & ConnectionClosing>(
        to router: Router<Context>, access: AccessGuard
    ) {
        access.requiring(.ordersRead, on: router).get("/orders/stream") { request, context in
            try stream(request, caller: context.caller, disconnect: context.closeConnection)
        }
        access.requiring(.ordersRead, on: router).get("/orders/:id/history") { _, context in
            try await history(context.parameters.get("id") ?? "", caller: context.caller)
        }
        access.requiring(.admin, on: router).get("/queues") { _, _ in
            try JSONResponse.make(QueuesResponse(queues: await queues.reports()))
        }
        router.get("/") { _, _ in
            Response(status: .seeOther, headers: [.location: "/live"])
        }
        router.get("/live") { _, _ in Self.page(LivePage.html, type: "text/html; charset=utf-8") }
        router.get("/live/live.js") { _, _ in Self.page(LivePage.script, type: "text/javascript; charset=utf-8") }
        router.get("/live/live.css") { _, _ in Self.page(LivePage.style, type: "text/css; charset=utf-8") }
    }

    struct QueuesResponse: Encodable {
        var queues: [QueueHealth.Report]
    }

    /// Starts a stream: `Last-Event-ID` (or `?after=`) resumes after that change;
    /// `?view=summary` sends the dashboard's summary every `interval_ms` instead. A caller
    /// with as many streams open as it may have is answered 429.
    func stream(_ request: Request, caller: Caller, disconnect: @escaping @Sendable () -> Void) throws -> Response {
        let view = try Self.view(of: request)
        guard feed.head != nil else {
            throw APIError.unavailable(
                "the order stream is starting: order changes could not be read from the database yet")
        }
        guard let lease = streams.lease(for: caller.subject) else { throw tooManyStreams }
        let session = OrderStreamSession(
            feed: feed, changeLog: changeLog, visibility: caller.visibility(), view: view,
            configuration: self.session, disconnect: disconnect)
        let headers: HTTPFields = [
            .contentType: "text/event-stream; charset=utf-8", .cacheControl: "no-store",
            // nginx and others buffer responses unless told not to; a buffered stream is not live.
            .accelBuffering: "no",
        ]
        return Response(
            status: .ok, headers: headers,
            body: ResponseBody { writer in
                // Free as soon as the stream ends, whichever way: the client left (a write
                // threw), the service stops, or the client fell behind.
                defer { lease.release() }
                _ = try await session.run { text in try await writer.write(ByteBuffer(string: text)) }
                try await writer.finish(nil)
            })
    }

    /// 429 for a stream beyond the caller's limit. Retry after one heartbeat: a stream whose
    /// client has gone is found out, and its place freed, at its next write at the latest.
    private var tooManyStreams: APIError {
        let seconds = max(1, Int(session.heartbeat.components.seconds))
        return APIError(
            status: .tooManyRequests, code: "too_many_streams",
            message:
                "this caller has \(streams.limit) order streams open, as many as it may (ORDER_STREAM_MAX_PER_CALLER); close one or retry after Retry-After seconds",
            retryAfter: seconds)
    }

    static func view(of request: Request) throws -> OrderStreamSession.View {
        let query = request.uri.queryParameters
        switch query.get("view") ?? "changes" {
        case "changes":
            if let text = request.headers[.lastEventID] {
                return .changes(after: try position(text, field: "Last-Event-ID"))
            }
            return .changes(after: try query.get("after").map { try position($0, field: "after") })
        case "summary":
            let milliseconds = query.get("interval_ms").map { Int($0) } ?? 500
            guard let milliseconds, (100...60_000).contains(milliseconds) else {
                throw APIError.badParameter(
                    "interval_ms", "interval_ms must be a whole number of milliseconds from 100 to 60000")
            }
            return .summary(interval: .milliseconds(milliseconds))
        default:
            throw APIError.badParameter("view", "view must be changes or summary")
        }
    }

    private static func position(_ text: String, field: String) throws -> Int64 {
        guard let value = Int64(text), value >= 0 else {
            throw APIError.badParameter(
                field, "\(field) must be the id of an event of this stream (a whole number, 0 or more)")
        }
        return value
    }

    /// One order's changes with their times; another customer's order is not found.
    func history(_ idText: String, caller: Caller) async throws -> Response {
        guard let id = UUID(uuidString: idText) else { throw APIError.badParameter("id", "id must be a UUID") }
        let changes = try await changeLog.history(of: id)
        guard let first = changes.first, caller.owns(first.order.customerID) else {
            throw APIError.notFound("order \(idText)")
        }
        return try JSONResponse.make(HistoryResponse(orderID: id, changes: changes.map(HistoryResponse.Entry.init)))
    }

    struct HistoryResponse: Encodable {
        struct Entry: Encodable {
            var sequence: Int64
            var event: String
            var status: Order.Status
            var invoiceNumber: String?
            var at: Date

            init(_ change: OrderChange) {
                sequence = change.sequence
                event = change.kind.rawValue
                status = change.kind.status
                invoiceNumber = change.order.invoiceNumber
                at = change.at
            }

            enum CodingKeys: String, CodingKey {
                case sequence, event, status
                case invoiceNumber = "invoice_number"
                case at
            }

            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: CodingKeys.self)
                try container.encode(sequence, forKey: .sequence)
                try container.encode(event, forKey: .event)
                try container.encode(status, forKey: .status)
                // Present as null before the invoice, as in an order.
                try container.encode(invoiceNumber, forKey: .invoiceNumber)
                try container.encode(at, forKey: .at)
            }
        }

        var orderID: UUID
        var changes: [Entry]

        enum CodingKeys: String, CodingKey {
            case orderID = "order_id"
            case changes
        }
    }

    /// A file of the page, with headers that let it run only its own script and styles and
    /// keep the page out of other sites' frames.
    private static func page(_ bytes: [UInt8], type: String) -> Response {
        Response(
            status: .ok,
            headers: [
                .contentType: type, .cacheControl: "no-cache",
                .contentSecurityPolicy:
                    "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
                .referrerPolicy: "no-referrer",
                .contentTypeOptions: "nosniff",
            ],
            body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}

/// The dashboard's files, compiled into the binary (no CDN, no build step).
enum LivePage {
    static let html = PackageResources.live_html
    static let script = PackageResources.live_js
    static let style = PackageResources.live_css
}
