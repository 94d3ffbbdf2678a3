public import Foundation
public import Hummingbird

/// Keyset pagination: `?limit=N&after=CURSOR`. The cursor is opaque to clients: the sort key
/// (time and id) of the last item of the previous page. Unlike offsets it stays correct while
/// rows are inserted, and each page costs an index seek.
public struct PageRequest: Sendable, Equatable {
    /// Items per page, 1...100 (default 20).
    public var limit: Int
    /// Where the previous page ended, if this is not the first page.
    public var after: PageCursor?

    /// Creates a page request.
    public init(limit: Int = 20, after: PageCursor? = nil) {
        self.limit = limit
        self.after = after
    }

    /// Reads `limit` and `after` from the query string; 400 naming the parameter if invalid.
    public init(_ request: Request) throws {
        let query = request.uri.queryParameters
        if let text = query.get("limit") {
            guard let limit = Int(text), (1...100).contains(limit) else {
                throw APIError.badParameter("limit", "limit must be an integer from 1 to 100")
            }
            self.limit = limit
        } else {
            self.limit = 20
        }
        if let text = query.get("after") {
            guard let cursor = PageCursor(text) else { throw APIError.badParameter("after", "after is not a cursor from a previous page") }
            self.after = cursor
        } else {
            self.after = nil
        }
    }
}

/// The position after which the next page starts.
public struct PageCursor: Sendable, Equatable {
    /// The last item's creation time.
    public var createdAt: Date
    /// The last item's id, breaking ties between equal times.
    public var id: UUID

    /// Creates a cursor from the last item of a page.
    public init(createdAt: Date, id: UUID) {
        self.createdAt = createdAt
        self.id = id
    }

    /// Parses the text form; `nil` if it is not one.
    public init?(_ text: String) {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        guard let data = Data(base64Encoded: base64), let decoded = String(data: data, encoding: .utf8) else { return nil }
        let parts = decoded.split(separator: "|")
        guard parts.count == 2, let micros = Int64(parts[0]), let id = UUID(uuidString: String(parts[1])) else { return nil }
        self.createdAt = Date(timeIntervalSince1970: Double(micros) / 1_000_000)
        self.id = id
    }

    /// URL-safe text: base64 of `microseconds|id`.
    public var text: String {
        let micros = Int64((createdAt.timeIntervalSince1970 * 1_000_000).rounded())
        return Data("\(micros)|\(id.uuidString.lowercased())".utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }
}

/// A page of items: `{"data": [...], "next_cursor": "..."}`.
public struct Page<Item: Encodable & Sendable>: Encodable, Sendable {
    /// The items.
    public var data: [Item]
    /// Pass as `after` for the next page; absent on the last page.
    public var nextCursor: String?

    /// Creates a page; `nextCursor` is set when the page is full.
    public init(data: [Item], limit: Int, cursor: (Item) -> PageCursor) {
        self.data = data
        self.nextCursor = data.count == limit ? data.last.map(cursor)?.text : nil
    }

    enum CodingKeys: String, CodingKey {
        case data
        case nextCursor = "next_cursor"
    }
}
