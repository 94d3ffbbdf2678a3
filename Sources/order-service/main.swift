import OrderService
import ServiceKit

let configuration = try OrderServiceConfiguration()
ServiceRuntime.bootstrap(configuration.service)
try await OrderServiceApp.run(configuration)
