import Contracts
import Testing

/// What each service's broker user may write to, by RabbitMQ's regular expressions.
@Suite(.timeLimit(.minutes(1)))
struct BrokerPermissionTests {
    /// Whether `pattern` (a permission regex, matched against a resource's whole name as
    /// RabbitMQ does) lets the user at `resource`.
    static func allows(_ pattern: String, _ resource: String) throws -> Bool {
        try Regex(pattern).firstMatch(in: resource) != nil
    }

    @Test func aServiceWritesOnlyToItsEventsAndItsOwnFailuresExchange() throws {
        let exchanges = [ExchangeName.orders, ExchangeName.customers, ExchangeName.invoices]
        for (permission, own) in zip(BrokerPermission.mercato, exchanges) {
            #expect(try Self.allows(permission.write, own), "\(permission.user)")
            #expect(try Self.allows(permission.write, ExchangeName.failures(of: permission.user)), "\(permission.user)")
            // The default exchange (named amq.default in permission checks) reaches every
            // queue by name, the dead-letter exchange every .dlq by its queue's name.
            for other in ["amq.default", "", ExchangeName.deadLetter] + exchanges.filter({ $0 != own }) {
                #expect(
                    try !Self.allows(permission.write, other),
                    "\(permission.user) may write to \(other.debugDescription)")
            }
            for other in BrokerPermission.mercato where other.user != permission.user {
                #expect(
                    try !Self.allows(permission.write, ExchangeName.failures(of: other.user)),
                    "\(permission.user) → \(other.user)")
            }
            #expect(permission.configure == "^$")
        }
    }
}
