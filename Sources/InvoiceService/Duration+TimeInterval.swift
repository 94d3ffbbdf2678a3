import Foundation

extension Duration {
    /// The duration in seconds, for `Date` arithmetic and SQL intervals.
    var timeInterval: TimeInterval {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
