import Contracts
import Foundation
import Histogram

/// The figures of a load run, as text or JSON.
struct LoadReport {
    var clients: Int
    var targetRate: Double?
    var seconds: Double
    var accepted: Int
    /// Orders shed by admission control (503 `overloaded`).
    var shed: Int
    var errors: [String: Int]
    /// With `--scarce`: orders refused at once (409 `out_of_stock`) and orders accepted, then
    /// cancelled `out_of_stock` by the catalog's reservation.
    var stock: (refused: Int, rejected: Int)?
    /// HTTP latency of `POST /orders`, microseconds.
    var http: Histogram<UInt64>
    /// Order created to invoice issued, microseconds.
    var orderToInvoice: Histogram<UInt64>
    /// From the end of the load to the last write it caused (the services' own timestamps).
    var settleSeconds: Double
    /// How long checking every order through the APIs took.
    var checkSeconds: Double
    var settled: Bool
    var problems: [String]
    /// Kilobytes by service.
    var peakRSS: [String: Int]
    /// What `--pay`/`--cancel`/`--race` did, if asked.
    var mix: String? = nil

    var rate: Double { seconds > 0 ? Double(accepted) / seconds : 0 }

    private static func milliseconds(_ histogram: Histogram<UInt64>, _ percentile: Double) -> Double {
        histogram.totalCount == 0 ? 0 : Double(histogram.valueAtPercentile(percentile)) / 1000
    }

    private static func line(_ histogram: Histogram<UInt64>) -> String {
        String(
            format: "p50 %.1f ms  p90 %.1f ms  p99 %.1f ms  max %.1f ms", milliseconds(histogram, 50),
            milliseconds(histogram, 90),
            milliseconds(histogram, 99), histogram.totalCount == 0 ? 0 : Double(histogram.max) / 1000)
    }

    var text: String {
        let errorText =
            errors.isEmpty
            ? "0 errors" : errors.sorted { $0.key < $1.key }.map { "\($0.key) ×\($0.value)" }.joined(separator: ", ")
        let memory = MercatoService.all.map(\.name).map { name in
            "\(name) " + (peakRSS[name].map { String(format: "%.1f MB", Double($0) / 1024) } ?? "not found")
        }.joined(separator: ", ")
        var lines = [
            "mercato load: \(clients) clients, "
                + (targetRate.map { String(format: "target %.0f orders/s", $0) } ?? "as fast as they go"),
            String(
                format: "  accepted         %d orders in %.1f s: %.1f orders/s; %d shed; %@", accepted, seconds, rate,
                shed, errorText),
            "  HTTP latency     " + Self.line(http),
            "  order → invoice  " + Self.line(orderToInvoice),
            String(
                format: "  settle time      %.1f s after the last order (checking took %.1f s)", settleSeconds,
                checkSeconds),
            "  peak RSS         " + memory,
        ]
        if let mix { lines.append("  payments         " + mix) }
        if let stock {
            lines.append(
                "  stock            \(stock.refused) refused at once (409 out_of_stock), \(stock.rejected) accepted and then cancelled out_of_stock"
            )
        }
        if problems.isEmpty {
            lines.append(
                mix == nil
                    ? "  check            OK: every accepted order counted once, invoiced once, listed as invoiced"
                    : "  check            OK: every order invoiced once, counted unless cancelled, in one state at all three services, money matching"
            )
        } else {
            lines.append("  check            FAILED")
            lines += problems.map { "    - " + $0 }
        }
        return lines.joined(separator: "\n")
    }

    var json: String {
        func percentiles(_ histogram: Histogram<UInt64>) -> [String: Double] {
            [
                "p50_ms": Self.milliseconds(histogram, 50), "p90_ms": Self.milliseconds(histogram, 90),
                "p99_ms": Self.milliseconds(histogram, 99),
                "max_ms": histogram.totalCount == 0 ? 0 : Double(histogram.max) / 1000,
            ]
        }
        var object: [String: Any] = [
            "clients": clients, "seconds": seconds, "accepted": accepted, "orders_per_second": rate, "shed": shed,
            "errors": errors,
            "http_latency": percentiles(http), "order_to_invoice": percentiles(orderToInvoice),
            "settle_seconds": settleSeconds, "check_seconds": checkSeconds,
            "correct": problems.isEmpty, "problems": problems, "peak_rss_kb": peakRSS,
        ]
        if let targetRate { object["target_rate"] = targetRate }
        if let mix { object["payments"] = mix }
        if let stock { object["stock"] = ["refused": stock.refused, "rejected": stock.rejected] }
        let data =
            (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }
}
