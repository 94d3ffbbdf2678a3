public import Foundation

extension KeyedEncodingContainer {
    /// Writes UUIDs in lowercase, as RFC 9562 asks and as other languages print them.
    /// Foundation's default is uppercase. Being a more specific overload than the generic
    /// `encode(_:forKey:)`, it is what synthesized `Codable` conformances call, in Contracts
    /// and in every module that imports it, so all of Mercato's JSON agrees.
    public mutating func encode(_ value: UUID, forKey key: Key) throws {
        try encode(value.uuidString.lowercased(), forKey: key)
    }
}
