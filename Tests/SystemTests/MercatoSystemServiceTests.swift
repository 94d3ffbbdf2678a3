import Contracts
import Testing

/// The system tests start what the one list of services names: a service added to
/// `MercatoService.all` and not to ``MercatoSystem/Service`` would be missing from every
/// system test, silently.
@Suite struct MercatoSystemServiceTests {
    @Test func theSystemStartsEveryServiceOfTheOneList() {
        #expect(MercatoSystem.Service.allCases.map(\.rawValue) == MercatoService.all.map(\.name))
        for service in MercatoSystem.Service.allCases {
            #expect(service.database == service.declaration.database && service.role == service.declaration.role)
        }
    }
}
