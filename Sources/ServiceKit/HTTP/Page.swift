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
