import OrderService
import ServiceKit

let configuration = try OrderServiceConfiguration()
ServiceRuntime.bootstrapLogging(configuration.service)
try await OrderServiceApp.run(configuration)
