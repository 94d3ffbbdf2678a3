public import Foundation

/// An exact decimal amount of money (Mercato uses one currency throughout).
///
/// On the wire it is a JSON string such as `"19.99"`, as Rails renders `BigDecimal`, so that no
/// consumer in any language reads it through a binary float. Decoding also accepts a JSON
/// number, parsed exactly, because HTTP clients naturally send `"unit_price": 19.99`.
public struct Money: Hashable, Sendable, Comparable, Codable, CustomStringConvertible {
    /// The amount, exact to 38 significant digits.
    public var amount: Decimal

    /// Creates an amount.
    public init(_ amount: Decimal) {
        self.amount = amount
    }

    /// Parses a plain decimal such as `12`, `-0.5` or `19.99`; `nil` for anything else
    /// (exponents, spaces, `NaN`, trailing text), which `Decimal(string:)` would accept or
    /// half-read.
    public init?(_ text: String) {
        var digits = 0
        var sawPoint = false
        var fractionDigits = 0
        for (index, character) in text.enumerated() {
            switch character {
            case "-" where index == 0:
                continue
            case "." where !sawPoint && digits > 0:
                sawPoint = true
            case "0"..."9":
                digits += 1
                if sawPoint { fractionDigits += 1 }
            default:
                return nil
            }
        }
        guard digits > 0, !sawPoint || fractionDigits > 0, digits <= 38,
            let amount = Decimal(string: text, locale: Locale(identifier: "en_US_POSIX"))
        else { return nil }
        self.amount = amount
    }

    /// Zero.
    public static let zero = Money(0)

    /// The number of digits after the decimal point, ignoring none (`1.50` has 2, `1.5` has 1).
    public var scale: Int {
        max(0, -Int(amount.exponent))
    }

    /// The amount rounded to `scale` fraction digits, halves away from zero.
    public func rounded(scale: Int = 2) -> Money {
        var value = amount
        var result = Decimal()
        NSDecimalRound(&result, &value, scale, .plain)
        return Money(result)
    }

    /// The amount with at least two fraction digits: `20.00`, `19.99`, `0.125`.
    public var description: String {
        var text = amount.description
        if amount.isNaN { return text }
        let fraction = text.firstIndex(of: ".").map { text.distance(from: $0, to: text.endIndex) - 1 } ?? -1
        if fraction < 0 { text += ".00" } else if fraction < 2 { text += String(repeating: "0", count: 2 - fraction) }
        return text
    }

    public static func < (lhs: Money, rhs: Money) -> Bool { lhs.amount < rhs.amount }
    public static func + (lhs: Money, rhs: Money) -> Money { Money(lhs.amount + rhs.amount) }
    public static func - (lhs: Money, rhs: Money) -> Money { Money(lhs.amount - rhs.amount) }
    public static func * (lhs: Money, rhs: Decimal) -> Money { Money(lhs.amount * rhs) }
    public static func * (lhs: Money, rhs: Int) -> Money { Money(lhs.amount * Decimal(rhs)) }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let text = try? container.decode(String.self) {
            guard let money = Money(text) else {
                throw DecodingError.dataCorruptedError(
                    in: container, debugDescription: "must be a decimal amount such as 19.99")
            }
            self = money
        } else {
            let amount: Decimal
            do {
                amount = try container.decode(Decimal.self)
            } catch  where (try? container.decode(Double.self)) != nil {
                // A valid JSON number beyond Decimal's range (1e308): Foundation fails it with an
                // internal error that surfaces as "not valid JSON"; name the field instead.
                throw DecodingError.dataCorruptedError(
                    in: container, debugDescription: "not an amount this system can hold")
            }
            guard amount.isFinite else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a finite amount")
            }
            self.amount = amount
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
