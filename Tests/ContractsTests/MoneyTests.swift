import Contracts
import Foundation
import Testing

@Suite(.timeLimit(.minutes(1)))
struct MoneyTests {
    @Test(arguments: ["0", "12", "-0.5", "19.99", "0.001", "12345678901234567890123456789012345678"])
    func parsesPlainDecimals(_ text: String) throws {
        let money = try #require(Money(text))
        #expect(money.amount == Decimal(string: text))
    }

    @Test(arguments: [
        "", "-", ".", "1.", ".5", "1e3", "12abc", " 12", "12 ", "1,5", "NaN", "--1", "1.2.3", "+1",
        "123456789012345678901234567890123456789",
    ])
    func refusesAnythingElse(_ text: String) {
        #expect(Money(text) == nil)
    }

    @Test func formatsWithAtLeastTwoFractionDigits() {
        #expect(Money("20")!.description == "20.00")
        #expect(Money("19.9")!.description == "19.90")
        #expect(Money("0.125")!.description == "0.125")
        #expect(Money("-3")!.description == "-3.00")
    }

    @Test func arithmeticIsExact() {
        // 0.1 + 0.2 is not 0.3 in binary floating point; it must be here.
        #expect(Money("0.1")! + Money("0.2")! == Money("0.3")!)
        #expect((Money("19.99")! * 3).description == "59.97")
        #expect((Money("44.48")! * Decimal(string: "0.2")!).rounded() == Money("8.90")!)
        #expect(Money("2.345")!.rounded() == Money("2.35")!)
        #expect(Money("-2.345")!.rounded() == Money("-2.35")!)
        #expect(Money("19.99")!.scale == 2)
    }

    @Test func decodesStringsAndExactNumbers() throws {
        struct Box: Codable { var price: Money }
        let decoder = JSONDecoder()
        #expect(try decoder.decode(Box.self, from: Data(#"{"price":"19.99"}"#.utf8)).price == Money("19.99"))
        #expect(try decoder.decode(Box.self, from: Data(#"{"price":19.99}"#.utf8)).price == Money("19.99"))
        #expect(try decoder.decode(Box.self, from: Data(#"{"price":0.1}"#.utf8)).price == Money("0.1"))
        #expect(throws: DecodingError.self) { try decoder.decode(Box.self, from: Data(#"{"price":"abc"}"#.utf8)) }
        #expect(throws: DecodingError.self) { try decoder.decode(Box.self, from: Data(#"{"price":true}"#.utf8)) }
        let encoded = String(decoding: try JSONEncoder().encode(Box(price: Money("5")!)), as: UTF8.self)
        #expect(encoded == #"{"price":"5.00"}"#)
    }
}
