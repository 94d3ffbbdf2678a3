import Contracts
import Foundation
public import InvoiceService
import Testing

/// What every ``SimulatedProviderLedger`` does — PostgreSQL's and the in-memory one alike.
public enum SimulatedProviderLedgerContract {
    /// Every check.
    public static let checks: [ContractCheck<any SimulatedProviderLedger>] = [
        ContractCheck("a key records one outcome, whatever is sent under it again") { ledger in
            let key = UUID().uuidString
            #expect(try await ledger.charge(key: key) == nil)
            let first = try await ledger.capture(key: key, amount: Money("10.00")!, method: "card")
            #expect(try await ledger.capture(key: key, amount: Money("10.00")!, method: "card") == first)
            #expect(try await ledger.decline(key: key, amount: Money("10.00")!, reason: "x") == first)
            #expect(try await ledger.charge(key: key) == first)
            let declined = UUID().uuidString
            #expect(try await ledger.decline(key: declined, amount: Money("3.00")!, reason: "insufficient_funds") == .declined(reason: "insufficient_funds"))
            #expect(try await ledger.totals() == (captured: Money("10.00")!, refunded: .zero))
        },
        ContractCheck("concurrent charges under one key capture once") { ledger in
            let key = UUID().uuidString
            let outcomes = try await withThrowingTaskGroup(of: ChargeOutcome.self) { group in
                for _ in 0..<8 { group.addTask { try await ledger.capture(key: key, amount: Money("5.00")!, method: "card") } }
                return try await group.reduce(into: Set<ChargeOutcome>()) { $0.insert($1) }
            }
            #expect(outcomes.count == 1)
            #expect(try await ledger.totals().captured == Money("5.00"))
        },
        ContractCheck("a refund gives a capture back once; an unknown one is rejected") { ledger in
            guard case .captured(let reference) = try await ledger.capture(key: UUID().uuidString, amount: Money("7.50")!, method: "card") else {
                Issue.record("not captured")
                return
            }
            try await ledger.refund(reference: reference, amount: Money("7.50")!)
            try await ledger.refund(reference: reference, amount: Money("7.50")!)
            #expect(try await ledger.totals() == (captured: .zero, refunded: Money("7.50")!))
            await #expect(throws: PaymentGatewayError.self) { try await ledger.refund(reference: "ch_unknown", amount: Money("1.00")!) }
            await #expect(throws: PaymentGatewayError.self) { try await ledger.refund(reference: reference, amount: Money("1.00")!) }
        },
    ]
}
