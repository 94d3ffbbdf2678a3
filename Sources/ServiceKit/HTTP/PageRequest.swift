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
            guard let cursor = PageCursor(text) else {
                throw APIError.badParameter("after", "after is not a cursor from a previous page")
            }
            self.after = cursor
        } else {
            self.after = nil
        }
    }
}
