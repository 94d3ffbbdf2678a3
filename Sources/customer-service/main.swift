import CustomerService
import ServiceKit

let configuration = try CustomerServiceConfiguration()
ServiceRuntime.bootstrap(configuration.service)
try await CustomerServiceApp.run(configuration)
