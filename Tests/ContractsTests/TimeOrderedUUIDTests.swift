import Contracts
import Foundation
import Testing

/// Version 7 ids: the layout of RFC 9562, and ordered by time as text and as bytes.
@Suite(.timeLimit(.minutes(1)))
struct TimeOrderedUUIDTests {
    @Test func isAVersion7UUIDCarryingItsMillisecond() {
        let time = Date(timeIntervalSince1970: 1_764_000_000.123)
        let id = UUID.timeOrdered(at: time)
        let text = id.uuidString.lowercased()
        #expect(Array(text)[14] == "7", "version nibble")
        #expect("89ab".contains(Array(text)[19]), "variant 10")
        let hex = text.replacingOccurrences(of: "-", with: "").prefix(12)
        #expect(UInt64(hex, radix: 16) == 1_764_000_000_123)
    }

    @Test func laterIdsSortAfterEarlierOnesAndNoTwoAreTheSame() {
        let start = Date(timeIntervalSince1970: 1_764_000_000)
        // Half a millisecond into each: clear of rounding at the millisecond's edge.
        let ids = (0..<1_000).map { UUID.timeOrdered(at: start + (Double($0) + 0.5) / 1000) }
        let texts = ids.map { $0.uuidString.lowercased() }
        #expect(zip(texts, texts.dropFirst()).allSatisfy { $0 < $1 }, "one millisecond later sorts later")
        #expect(Set(ids).count == ids.count)
        // Within one millisecond the random bits keep them apart.
        #expect(Set((0..<1_000).map { _ in UUID.timeOrdered(at: start) }).count == 1_000)
    }
}
