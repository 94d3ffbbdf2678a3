public import Foundation

/// The position after which the next page starts: the sort key of the previous page's last
/// item. Items are ordered by a time (an order's or a customer's `created_at`, an invoice's
/// `issued_at`) and then by id, at PostgreSQL's precision: microseconds.
public struct PageCursor: Sendable, Hashable, Comparable {
    /// The last item's sort time.
    public var time: Date
    /// The last item's id, breaking ties between equal times.
    public var id: UUID

    /// Creates a cursor from the last item of a page.
    public init(time: Date, id: UUID) {
        self.time = time
        self.id = id
    }

    /// The time in whole microseconds, as PostgreSQL stores and compares it.
    public var microseconds: Int64 { Int64((time.timeIntervalSince1970 * 1_000_000).rounded()) }

    /// PostgreSQL's order: time (to the microsecond), then the id's bytes (which the
    /// fixed-width upper-case hex of `uuidString` compares the same way).
    public static func < (lhs: PageCursor, rhs: PageCursor) -> Bool {
        (lhs.microseconds, lhs.id.uuidString) < (rhs.microseconds, rhs.id.uuidString)
    }

    public static func == (lhs: PageCursor, rhs: PageCursor) -> Bool {
        lhs.microseconds == rhs.microseconds && lhs.id == rhs.id
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(microseconds)
        hasher.combine(id)
    }

    /// Parses the text form; `nil` if it is not one.
    public init?(_ text: String) {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        guard let data = Data(base64Encoded: base64), let decoded = String(data: data, encoding: .utf8) else {
            return nil
        }
        let parts = decoded.split(separator: "|")
        guard parts.count == 2, let micros = Int64(parts[0]), let id = UUID(uuidString: String(parts[1])) else {
            return nil
        }
        self.time = Date(timeIntervalSince1970: Double(micros) / 1_000_000)
        self.id = id
    }

    /// URL-safe text: base64 of `microseconds|id`.
    public var text: String {
        Data("\(microseconds)|\(id.uuidString.lowercased())".utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(
                of: "=", with: "")
    }
}
