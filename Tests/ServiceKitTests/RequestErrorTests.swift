import Foundation
import HTTPTypes
import Hummingbird
@testable import ServiceKit
import Testing

struct RequestErrorTests {
    struct Body: Decodable {
        struct Item: Decodable { var quantity: Int; var name: String }
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
        let cursor = PageCursor(createdAt: Date(timeIntervalSince1970: 1_732_400_000.123456), id: UUID())
        let parsed = try #require(PageCursor(cursor.text))
        #expect(parsed.id == cursor.id)
        #expect(abs(parsed.createdAt.timeIntervalSince1970 - cursor.createdAt.timeIntervalSince1970) < 0.000_001)
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
