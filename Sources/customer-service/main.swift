import CustomerService
import ServiceKit

let configuration = try CustomerServiceConfiguration()
ServiceRuntime.bootstrapLogging(configuration.service)
try await CustomerServiceApp.run(configuration)
