import Contracts
import Foundation
package import InvoiceService
import Testing

/// What every ``SimulatedProviderLedger`` does — PostgreSQL's and the in-memory one alike.
package enum SimulatedProviderLedgerContract {
    /// Every check.
    package static let checks: [ContractCheck<any SimulatedProviderLedger>] = [
        ContractCheck("a key records one outcome, whatever is sent under it again") { ledger in
            let key = UUID().uuidString
            #expect(try await ledger.charge(key: key) == nil)
            let first = try await ledger.capture(key: key, amount: Money("10.00")!, method: "card")
            #expect(try await ledger.capture(key: key, amount: Money("10.00")!, method: "card") == first)
            #expect(try await ledger.decline(key: key, amount: Money("10.00")!, reason: "x") == first)
            #expect(try await ledger.charge(key: key) == first)
            let declined = UUID().uuidString
            #expect(
                try await ledger.decline(key: declined, amount: Money("3.00")!, reason: "insufficient_funds")
                    == .declined(reason: "insufficient_funds"))
            #expect(try await ledger.totals() == (captured: Money("10.00")!, refunded: .zero))
        },
        ContractCheck("concurrent charges under one key capture once") { ledger in
            let key = UUID().uuidString
            let outcomes = try await withThrowingTaskGroup(of: ChargeOutcome.self) { group in
                for _ in 0..<8 {
                    group.addTask { try await ledger.capture(key: key, amount: Money("5.00")!, method: "card") }
                }
                return try await group.reduce(into: Set<ChargeOutcome>()) { $0.insert($1) }
            }
            #expect(outcomes.count == 1)
            #expect(try await ledger.totals().captured == Money("5.00"))
        },
        ContractCheck("a cancel answers what the key came to, and no charge is ever made under a cancelled key") {
            ledger in
            let cancelled = UUID().uuidString
            #expect(try await ledger.cancel(key: cancelled) == .cancelled)
            #expect(try await ledger.capture(key: cancelled, amount: Money("9.00")!, method: "card") == .cancelled)
            #expect(try await ledger.decline(key: cancelled, amount: Money("9.00")!, reason: "x") == .cancelled)
            #expect(try await ledger.charge(key: cancelled) == .cancelled)
            let made = UUID().uuidString
            let captured = try await ledger.capture(key: made, amount: Money("4.00")!, method: "card")
            #expect(try await ledger.cancel(key: made) == captured, "too late to cancel: the capture stands")
            #expect(try await ledger.totals() == (captured: Money("4.00")!, refunded: .zero))
        },
        ContractCheck("a cancel and a capture racing under one key: exactly one of them happens") { ledger in
            for _ in 0..<10 {
                let key = UUID().uuidString
                async let cancel = ledger.cancel(key: key)
                async let capture = ledger.capture(key: key, amount: Money("1.00")!, method: "card")
                let (cancelled, captured) = try await (cancel, capture)
                #expect(cancelled == captured, "both answer the one outcome the key has")
            }
        },
        ContractCheck("a refund gives a capture back once; an unknown one is rejected") { ledger in
            guard
                case .captured(let reference) = try await ledger.capture(
                    key: UUID().uuidString, amount: Money("7.50")!, method: "card")
            else {
                Issue.record("not captured")
                return
            }
            try await ledger.refund(reference: reference, amount: Money("7.50")!)
            try await ledger.refund(reference: reference, amount: Money("7.50")!)
            #expect(try await ledger.totals() == (captured: .zero, refunded: Money("7.50")!))
            await #expect(throws: PaymentGatewayError.self) {
                try await ledger.refund(reference: "ch_unknown", amount: Money("1.00")!)
            }
            await #expect(throws: PaymentGatewayError.self) {
                try await ledger.refund(reference: reference, amount: Money("1.00")!)
            }
        },
    ]
}
