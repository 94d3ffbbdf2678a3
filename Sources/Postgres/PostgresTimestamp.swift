import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Converts between `Date` and PostgreSQL's ISO timestamp text, to the microsecond.
///
/// Connections set `DateStyle=ISO` and `TimeZone=UTC`, so the server writes
/// `2026-11-24 10:00:00.123456+00`; parsing also accepts other offsets, a `T` separator, a
/// missing fraction, and a bare `date`.
enum PostgresTimestamp {
    /// `2026-11-24T10:00:00.123456Z`, which PostgreSQL reads for `timestamptz`.
    static func format(_ date: Date) -> String {
        var seconds = Int(floor(date.timeIntervalSince1970))
        var micros = Int(((date.timeIntervalSince1970 - Double(seconds)) * 1_000_000).rounded())
        if micros == 1_000_000 {
            seconds += 1
            micros = 0
        }
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        let fraction = String(micros)
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2))."
            + String(repeating: "0", count: 6 - fraction.count) + fraction + "Z"
    }

    /// Parses `YYYY-MM-DD[( |T)HH:MM:SS[.ffffff][(+|-)HH[:MM[:SS]]|Z]]`.
    static func parse(_ text: String) -> Date? {
        var scanner = Scanner(Array(text.utf8))
        guard let year = scanner.number(digits: 4), scanner.skip("-"),
            let month = scanner.number(digits: 2), scanner.skip("-"),
            let day = scanner.number(digits: 2)
        else { return nil }
        var hour = 0
        var minute = 0
        var second = 0
        var fraction = 0.0
        var offset = 0
        if scanner.skip(" ") || scanner.skip("T") {
            guard let h = scanner.number(digits: 2), scanner.skip(":"), let m = scanner.number(digits: 2),
                scanner.skip(":"),
                let s = scanner.number(digits: 2)
            else { return nil }
            (hour, minute, second) = (h, m, s)
            if scanner.skip(".") {
                var scale = 0.1
                while let digit = scanner.digit() {
                    fraction += Double(digit) * scale
                    scale /= 10
                }
            }
            if scanner.skip("Z") {
                offset = 0
            } else if let sign = scanner.sign() {
                guard let oh = scanner.number(digits: 2) else { return nil }
                var total = oh * 3600
                if scanner.skip(":"), let om = scanner.number(digits: 2) {
                    total += om * 60
                    if scanner.skip(":"), let os = scanner.number(digits: 2) { total += os }
                }
                offset = sign * total
            }
        }
        guard scanner.atEnd else { return nil }
        var parts = tm()
        parts.tm_year = Int32(year - 1900)
        parts.tm_mon = Int32(month - 1)
        parts.tm_mday = Int32(day)
        parts.tm_hour = Int32(hour)
        parts.tm_min = Int32(minute)
        parts.tm_sec = Int32(second)
        let seconds = timegm(&parts)
        return Date(timeIntervalSince1970: Double(seconds - offset) + fraction)
    }

    private struct Scanner {
        let bytes: [UInt8]
        var position = 0

        init(_ bytes: [UInt8]) { self.bytes = bytes }

        var atEnd: Bool { position == bytes.count }

        mutating func skip(_ character: Character) -> Bool {
            guard position < bytes.count, bytes[position] == character.asciiValue else { return false }
            position += 1
            return true
        }

        mutating func digit() -> Int? {
            guard position < bytes.count, (48...57).contains(bytes[position]) else { return nil }
            defer { position += 1 }
            return Int(bytes[position] - 48)
        }

        mutating func number(digits: Int) -> Int? {
            var value = 0
            for _ in 0..<digits {
                guard let digit = digit() else { return nil }
                value = value * 10 + digit
            }
            return value
        }

        mutating func sign() -> Int? {
            if skip("+") { return 1 }
            if skip("-") { return -1 }
            return nil
        }
    }
}
