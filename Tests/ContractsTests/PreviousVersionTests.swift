// swift-format-ignore-file: AlwaysUseLowerCamelCase
// The previous version's types spell their properties as their JSON does.
import Contracts
import Foundation
import Testing

/// Existing events change only additively: a consumer built before the order's later life
/// (payments, cancellation) still decodes every event of a type it knew, as the services
/// publish it now. The types below are frozen copies of those payloads as that version had
/// them (`git show 46b5294:contracts/…`); they must never be edited to follow the current ones.
@Suite(.timeLimit(.minutes(1)))
struct PreviousVersionTests {
    enum Previous {
        struct OrderLine: Decodable {
            var product_name: String
            var quantity: Int
            var unit_price: String
            var line_total: String
        }
        struct OrderCreated: Decodable {
            var order_id: UUID
            var customer_id: UUID
            var items: [OrderLine]
            var total: String
            var created_at: String
        }
        struct InvoiceCreated: Decodable {
            var invoice_id: UUID
            var invoice_number: String
            var order_id: UUID
            var customer_id: UUID
            var lines: [OrderLine]
            var subtotal: String
            var tax_rate: String
            var tax: String
            var total: String
            var issued_at: String
        }
        struct CustomerSnapshot: Decodable {
            var customer_id: UUID
            var name: String
            var email: String
            var address: String
            var orders_count: Int
            var version: Int
            var updated_at: String
        }
        struct Envelope<Data: Decodable>: Decodable {
            var specversion: String
            var id: String
            var type: String
            var dataversion: String?
            var data: Data
        }
    }

    /// Decodes the current sample of `name` as the previous version's consumer did, and the
    /// current producer's encoding of it too.
    func decodesAsBefore<Old: Decodable, New: EventPayload>(_ name: String, old: Old.Type, new: New.Type) throws {
        let sample = try SampleEventTests.sample(name)
        let envelope = try JSONDecoder().decode(Previous.Envelope<Old>.self, from: sample)
        #expect(envelope.type == name)
        #expect(envelope.dataversion == "1", "\(name): an additive change keeps dataversion 1")
        let reencoded = try EventCoding.makeEncoder().encode(
            try EventCoding.makeDecoder().decode(CloudEvent<New>.self, from: sample))
        _ = try JSONDecoder().decode(Previous.Envelope<Old>.self, from: reencoded)
        #expect(New.dataVersion == "1")
    }

    @Test func theEventsOfThePreviousVersionStillDecodeWithItsTypes() throws {
        try decodesAsBefore("order.created", old: Previous.OrderCreated.self, new: OrderCreated.self)
        try decodesAsBefore("invoice.created", old: Previous.InvoiceCreated.self, new: InvoiceCreated.self)
        try decodesAsBefore("customer.created", old: Previous.CustomerSnapshot.self, new: CustomerCreated.self)
        try decodesAsBefore("customer.updated", old: Previous.CustomerSnapshot.self, new: CustomerUpdated.self)
    }

    @Test func anInvoiceFromBeforeDueDatesStillDecodes() throws {
        var object = try #require(
            try JSONSerialization.jsonObject(with: SampleEventTests.sample("invoice.created")) as? [String: Any])
        var data = try #require(object["data"] as? [String: Any])
        data["due_at"] = nil
        object["data"] = data
        let event = try EventCoding.makeDecoder().decode(
            CloudEvent<InvoiceCreated>.self, from: JSONSerialization.data(withJSONObject: object))
        #expect(event.data.dueAt == nil)
        #expect(!String(decoding: try EventCoding.makeEncoder().encode(event), as: UTF8.self).contains("due_at"))
    }
}
