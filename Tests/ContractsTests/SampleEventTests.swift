import Contracts
import Foundation
import Testing

/// The JSON samples in contracts/samples are the format's documentation for consumers in
/// other languages; these tests keep them and the Swift types in agreement.
@Suite(.timeLimit(.minutes(1)))
struct SampleEventTests {
    static let samples = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("contracts/samples")

    static func sample(_ name: String) throws -> Data {
        try Data(contentsOf: samples.appendingPathComponent("\(name).json"))
    }

    /// Decodes a sample, encodes it again, and requires the same JSON back.
    func roundTrip<Payload: EventPayload>(_ name: String, as type: Payload.Type) throws -> CloudEvent<Payload> {
        let original = try Self.sample(name)
        let event = try EventCoding.makeDecoder().decode(CloudEvent<Payload>.self, from: original)
        let encoded = try EventCoding.makeEncoder().encode(event)
        let before = try JSONSerialization.jsonObject(with: original) as? NSDictionary
        let after = try JSONSerialization.jsonObject(with: encoded) as? NSDictionary
        #expect(before == after, "\(name): \(String(decoding: encoded, as: UTF8.self))")
        #expect(event.type == name)
        #expect(event.specversion == "1.0")
        return event
    }

    @Test func orderCreated() throws {
        let event = try roundTrip("order.created", as: OrderCreated.self)
        #expect(event.data.items.count == 2)
        #expect(event.data.items[0].lineTotal == Money("39.98"))
        #expect(event.data.total == event.data.items.map(\.lineTotal).reduce(.zero, +))
    }

    @Test func invoiceCreated() throws {
        let event = try roundTrip("invoice.created", as: InvoiceCreated.self)
        #expect(event.data.tax == (event.data.subtotal * event.data.taxRate).rounded())
        #expect(event.data.total == event.data.subtotal + event.data.tax)
        #expect(event.data.invoiceNumber == "INV-2026-000042")
    }

    @Test func customerCreated() throws {
        let event = try roundTrip("customer.created", as: CustomerCreated.self)
        #expect(event.data.customer.version == 1)
        #expect(event.data.customer.ordersCount == 0)
    }

    @Test func customerUpdated() throws {
        let event = try roundTrip("customer.updated", as: CustomerUpdated.self)
        #expect(event.data.customer.ordersCount == 1)
    }

    @Test func invoiceCreatedCarriesItsDueDate() throws {
        let event = try roundTrip("invoice.created", as: InvoiceCreated.self)
        #expect(event.data.dueAt.map { $0 > event.data.issuedAt } == true)
    }

    @Test func orderCancelled() throws {
        let event = try roundTrip("order.cancelled", as: OrderCancelled.self)
        #expect(event.data.reason == .requested)
    }

    @Test func invoicePaid() throws {
        let event = try roundTrip("invoice.paid", as: InvoicePaid.self)
        #expect(event.data.amount == Money("53.38"))
    }

    @Test func invoiceVoided() throws {
        let event = try roundTrip("invoice.voided", as: InvoiceVoided.self)
        #expect(event.data.refundDue == Money("53.38"))
    }

    @Test func invoiceOverdue() throws {
        let event = try roundTrip("invoice.overdue", as: InvoiceOverdue.self)
        #expect(event.data.invoiceNumber == "INV-2026-000042" && event.data.overdueAt > event.data.dueAt)
    }

    @Test func invoiceRefunded() throws {
        let event = try roundTrip("invoice.refunded", as: InvoiceRefunded.self)
        #expect(event.data.amount == Money("53.38"))
    }

    @Test func everyEventTypeHasASample() throws {
        for type in EventType.all {
            let header = try EventCoding.makeDecoder().decode(CloudEventHeader.self, from: Self.sample(type.name))
            #expect(header.type == type.name)
        }
    }

    @Test func encodingWritesLowercaseIDsAndStringMoney() throws {
        let id = UUID()
        let event = CloudEvent(
            source: "/mercato/test",
            data: OrderCreated(
                orderID: id, customerID: id,
                items: [OrderLine(productName: "x", quantity: 3, unitPrice: Money("0.10")!)],
                total: Money("0.30")!, createdAt: Date(timeIntervalSince1970: 0)))
        let json = String(decoding: try EventCoding.makeEncoder().encode(event), as: UTF8.self)
        #expect(json.contains(id.uuidString.lowercased()))
        #expect(!json.contains(id.uuidString))
        #expect(json.contains(#""unit_price":"0.10""#))
        #expect(json.contains(#""line_total":"0.30""#))
        #expect(json.contains(#""created_at":"1970-01-01T00:00:00.000Z""#))
    }

    @Test func decodingRefusesMalformedEvents() throws {
        let decoder = EventCoding.makeDecoder()
        let valid = try Self.sample("order.created")
        var object = try JSONSerialization.jsonObject(with: valid) as! [String: Any]
        var data = object["data"] as! [String: Any]
        data["total"] = "12,50"
        object["data"] = data
        let broken = try JSONSerialization.data(withJSONObject: object)
        #expect(throws: DecodingError.self) { try decoder.decode(CloudEvent<OrderCreated>.self, from: broken) }
        #expect(throws: DecodingError.self) { try decoder.decode(CloudEvent<OrderCreated>.self, from: Data("{".utf8)) }
    }
}
