public import Foundation

extension UUID {
    /// A version 7 UUID (RFC 9562): 48 bits of Unix time in milliseconds, then 74 random bits.
    ///
    /// Mercato's new ids (orders, invoices, payments, event ids) are time-ordered so that each
    /// insert into a B-tree index lands on its rightmost pages, which are in memory and already
    /// dirty, instead of on a random page: random (version 4) keys made every order touch
    /// several cold index pages, each written whole to the WAL after a checkpoint. The 74
    /// random bits keep ids unguessable; what they give away is the millisecond of creation,
    /// which every order and invoice shows anyway.
    public static func timeOrdered(at time: Date = Date()) -> UUID {
        var generator = SystemRandomNumberGenerator()
        let milliseconds = UInt64(max(0, time.timeIntervalSince1970 * 1000))
        let random = (generator.next() as UInt64, generator.next() as UInt64)
        var bytes = [UInt8](repeating: 0, count: 16)
        for index in 0..<6 { bytes[index] = UInt8(truncatingIfNeeded: milliseconds >> (8 * (5 - UInt64(index)))) }
        for index in 6..<16 {
            bytes[index] = UInt8(truncatingIfNeeded: (index < 8 ? random.0 : random.1) >> (8 * UInt64(index % 8)))
        }
        bytes[6] = 0x70 | (bytes[6] & 0x0F)  // version 7
        bytes[8] = 0x80 | (bytes[8] & 0x3F)  // variant 10
        return UUID(
            uuid: (
                bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]
            ))
    }
}
