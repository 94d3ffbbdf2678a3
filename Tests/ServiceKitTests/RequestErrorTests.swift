import Foundation
import HTTPTypes
import Hummingbird
import Testing

@testable import ServiceKit

@Suite(.timeLimit(.minutes(1)))
struct RequestErrorTests {
    struct Body: Decodable {
        struct Item: Decodable {
            var quantity: Int
            var name: String
        }
        var items: [Item]
        var flag: Bool
    }

    func error(decoding json: String) -> APIError? {
        do {
            _ = try JSONDecoder().decode(Body.self, from: Data(json.utf8))
            return nil
        } catch let error as DecodingError {
            return APIError(decoding: error)
        } catch {
            return nil
        }
    }

    @Test func missingFieldsAreNamedWithTheirPath() {
        let missing = error(decoding: #"{"items":[{"quantity":1,"name":"a"},{"quantity":2}],"flag":true}"#)
        #expect(missing?.status == .unprocessableContent)
        #expect(missing?.field == "items[1].name")
        #expect(missing?.message == "is required")
    }

    @Test func wrongTypesAreNamed() {
        let wrong = error(decoding: #"{"items":[{"quantity":"one","name":"a"}],"flag":true}"#)
        #expect(wrong?.field == "items[0].quantity")
        #expect(wrong?.message == "must be an integer")
        let null = error(decoding: #"{"items":[],"flag":null}"#)
        #expect(null?.field == "flag")
    }

    @Test func syntaxErrorsAreBadRequests() {
        #expect(error(decoding: #"{"items":"#)?.status == .badRequest)
        #expect(error(decoding: #"[]"#)?.status == .badRequest)
        #expect(error(decoding: "")?.code == "malformed_json")
    }

    @Test func cursorsRoundTrip() throws {
        let cursor = PageCursor(time: Date(timeIntervalSince1970: 1_732_400_000.123456), id: UUID())
        let parsed = try #require(PageCursor(cursor.text))
        #expect(parsed == cursor)
        #expect(parsed.microseconds == 1_732_400_000_123_456)
        #expect(!cursor.text.contains("="))
        #expect(PageCursor("not-a-cursor") == nil)
        #expect(PageCursor("") == nil)
    }

    @Test(arguments: [
        ("ok", true), ("  padded  ", true), ("", false), ("   ", false), ("tab\there", false), ("line\nbreak", false),
        ("nul\u{0}", false), ("bidi\u{202E}override", false), ("emoji 👩‍💻 ok", true), ("naïve café 日本", true),
    ])
    func textFields(_ value: String, _ valid: Bool) {
        #expect(((try? FieldValidation.text(value, field: "f", maxLength: 20)) != nil) == valid)
    }

    @Test func emailFields() {
        #expect((try? FieldValidation.email("a@b.co", field: "email")) == "a@b.co")
        for bad in ["plain", "@b.co", "a@", "a@b", "a @b.co", "a@b.co.", "a@@b.co"] {
            #expect(throws: APIError.self, "\(bad)") { try FieldValidation.email(bad, field: "email") }
        }
    }

    @Test func traceparentsAreChecked() {
        #expect(TraceContext(traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01") != nil)
        #expect(TraceContext(traceparent: "00-00000000000000000000000000000000-00f067aa0ba902b7-01") == nil)
        #expect(TraceContext(traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01") == nil)
        #expect(TraceContext(traceparent: "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01") == nil)
        #expect(TraceContext(traceparent: "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01") == nil)
        #expect(TraceContext(traceparent: "garbage") == nil)
    }
}

/// Keyset pages, in SQL and in memory.
struct KeysetPageTests {
    @Test func theSQLOfAFirstAndANextPage() {
        let id = UUID()
        let first = PageRequest(limit: 5).query(select: "id", from: "orders", orderedBy: "created_at")
        #expect(first.sql == "SELECT id FROM orders ORDER BY created_at, id LIMIT $1")
        #expect(first.bindings.count == 1)
        let next = PageRequest(limit: 5, after: PageCursor(time: Date(timeIntervalSince1970: 1), id: id))
            .query(
                select: "id", from: "orders", orderedBy: "created_at", filter: "customer_id = $1", filterBindings: [id])
        #expect(
            next.sql
                == "SELECT id FROM orders WHERE customer_id = $1 AND (created_at, id) > ($2, $3) ORDER BY created_at, id LIMIT $4"
        )
        #expect(next.bindings.count == 4)
    }

    @Test func inMemoryPagesFollowEachOtherWithoutRepeatsOrGaps() {
        struct Item {
            var time: Date
            var id: UUID
        }
        let base = Date(timeIntervalSince1970: 1_700_000_000)
        // Ties on time, and times that differ below a microsecond (one key for PostgreSQL).
        let items = (0..<23).map { Item(time: base + Double($0 / 3) + ($0 % 3 == 2 ? 0.000_000_1 : 0), id: UUID()) }
        let key = { (item: Item) in PageCursor(time: item.time, id: item.id) }
        var request = PageRequest(limit: 5)
        var seen: [UUID] = []
        while true {
            let page = request.page(of: items.shuffled(), key: key)
            seen += page.map(\.id)
            guard page.count == request.limit, let last = page.last else { break }
            request.after = PageCursor(PageCursor(time: last.time, id: last.id).text)
        }
        #expect(seen == items.sorted { key($0) < key($1) }.map(\.id))
    }
}
