/// Why a captured payment is given back: the capture landed where it cannot stay.
public enum RefundReason: String, Sendable, Hashable, Codable {
    /// Its invoice was voided: the order was cancelled.
    case invoiceVoid = "invoice_void"
    /// Another payment paid its invoice first.
    case invoicePaidByAnother = "invoice_paid_by_another_payment"
    /// Its invoice was closed as overdue before the capture arrived.
    case invoiceOverdue = "invoice_overdue"

    /// Whether the refund belongs to a cancelled order (void or overdue invoice), as opposed
    /// to a paid one that was charged twice.
    public var ofCancelledOrder: Bool { self != .invoicePaidByAnother }
}
