import Contracts
import CatalogService
import CustomerService
import Foundation
import InvoiceService
import MercatoTesting
import Messaging
import OrderService
import ServiceKit
import Testing

/// The deployment files agree with the code: every variable they set is one a service reads,
/// ports line up, credentials are not RabbitMQ's guest, and the production overlay is the
/// replicated setup. scripts/test renders the files first (scripts/check-deploy).
@Suite(
    .enabled(if: DeployFiles.rendered != nil || Integration.isCI, "needs MERCATO_DEPLOY_RENDERED: run scripts/test"),
    .timeLimit(.minutes(2)))
struct DeployTests {
    /// What each service reads from its environment, found by letting it read a recording one.
    static let variables: [String: Set<String>] = {
        // With a signing key: without one a service stops reading at the first refusal.
        let key = ["AUTH_JWT_SECRET": String(repeating: "k", count: 32)]
        let (order, orderRead) = EnvironmentReader.recording(key)
        _ = try? OrderServiceConfiguration(environment: order)
        let (customer, customerRead) = EnvironmentReader.recording(key)
        _ = try? CustomerServiceConfiguration(environment: customer)
        let (invoice, invoiceRead) = EnvironmentReader.recording(key)
        _ = try? InvoiceServiceConfiguration(environment: invoice)
        let (catalog, catalogRead) = EnvironmentReader.recording(key)
        _ = try? CatalogServiceConfiguration(environment: catalog)
        return [
            "order-service": orderRead(), "customer-service": customerRead(), "invoice-service": invoiceRead(),
            "catalog-service": catalogRead(),
        ]
    }()

    /// Each service's port and database, from the one list.
    static let defaults: [String: (port: Int, database: String)] = Dictionary(
        uniqueKeysWithValues: MercatoService.all.map { ($0.name, (port: $0.port, database: $0.database)) })

    /// The one list of services (Contracts' `MercatoService.all`) is what every file that
    /// names services uses: the scripts' copy, the executables, the configuration readers
    /// above, the broker permissions and exchanges, the databases compose and Kubernetes
    /// create, and the image. Each expectation is a step of docs/adding-a-service.md.
    @Test func everyServiceOfTheOneListIsEverywhere() throws {
        let repository = DeployFiles.repository
        func file(_ path: String) throws -> String {
            try String(contentsOf: repository.appendingPathComponent(path), encoding: .utf8)
        }
        #expect(
            try file("deploy/services.tsv") == MercatoService.table,
            "deploy/services.tsv must read:\n\(MercatoService.table)")
        let names = Set(MercatoService.all.map(\.name))
        #expect(Set(Self.variables.keys) == names, "DeployTests.variables reads each service's configuration")
        #expect(Set(BrokerPermission.mercato.map(\.user)) == names)
        let exchanges = Set(Topology.mercato(queueType: .classic).exchanges.map(\.name))
        let initDatabases = try file("deploy/postgres/init-databases.sh")
        let package = try file("Package.swift")
        for service in MercatoService.all {
            #expect(
                FileManager.default.fileExists(
                    atPath: repository.appendingPathComponent("Sources/\(service.name)/main.swift").path),
                "\(service.name)")
            // An executable target of that name: `.executableTarget(` then, across any line
            // breaks the formatter puts in, its name first.
            #expect(
                package.range(
                    of: #"\.executableTarget\(\s*name: "# + "\"\(service.name)\"", options: .regularExpression) != nil,
                "\(service.name): no executable target")
            #expect(
                exchanges.contains(service.exchange) && exchanges.contains(ExchangeName.failures(of: service.name)),
                "\(service.name)")
            let prefix = service.role.uppercased()
            #expect(
                initDatabases.contains("create \(service.role) \(service.database) \"${\(prefix)_DB_PASSWORD:?}\""),
                "\(service.name)")
            #expect(
                initDatabases.contains("GRANT CONNECT ON DATABASE \(service.database) TO mercato_auditor"),
                "\(service.name)")
            #expect(
                FileManager.default.fileExists(
                    atPath: repository.appendingPathComponent("deploy/k8s/base/\(service.name).yaml").path))
            #expect(
                FileManager.default.fileExists(
                    atPath: repository.appendingPathComponent(
                        "Sources/\(service.name.split(separator: "-").map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined())/openapi.json"
                    ).path))
        }
    }

    @Test func servicesReadTheDocumentedVariables() {
        for (service, read) in Self.variables {
            #expect(
                read.isSuperset(of: [
                    "PORT", "AMQP_URL", "DATABASE_URL", "LOG_LEVEL", "QUEUE_TYPE", "AUTH_JWT_SECRET", "AUTH_JWKS_FILE",
                    "AMQP_CA_FILE",
                ]),
                "\(service) reads \(read)")
        }
        #expect(Self.variables["order-service"]!.isSuperset(of: ["CUSTOMER_SERVICE_URL", "CATALOG_SERVICE_URL"]))
        #expect(
            Self.variables["invoice-service"]!.isSuperset(of: [
                "TAX_RATE", "PAYMENT_DUE_SECONDS", "PAYMENT_GATEWAY_TIMEOUT_MS", "PAYMENT_CIRCUIT_FAILURES",
            ]))
        #expect(Self.variables["invoice-service"]!.contains("PAYMENT_SWEEP_INTERVAL_MS"))
        #expect(Self.variables["customer-service"]!.contains("SEED_CUSTOMERS"))
    }

    @Test func composeSetsOnlyWhatTheServicesRead() async throws {
        let compose = try await DeployFiles.compose()
        let services = try #require(compose["services"] as? [String: Any])
        #expect(
            Set(services.keys)
                == Set(MercatoService.all.map(\.name)).union([
                    "rabbitmq", "postgres", "broker-setup", "audit", "prometheus", "grafana", "jaeger",
                ]))
        // `docker compose run --rm audit`: mercato audit as the read-only role, on demand only.
        let audit = try #require(services["audit"] as? [String: Any])
        #expect(audit["command"] as? [String] == ["mercato", "audit"] && audit["profiles"] as? [String] == ["tools"])
        let auditEnvironment = try #require(audit["environment"] as? [String: String])
        #expect(URLComponents(string: auditEnvironment["AUDIT_DATABASE_URL"] ?? "")?.user == "mercato_auditor")
        let rabbit = try #require(services["rabbitmq"] as? [String: Any])
        let rabbitEnvironment = try #require(rabbit["environment"] as? [String: String])
        let user = try #require(rabbitEnvironment["RABBITMQ_DEFAULT_USER"])
        let password = try #require(rabbitEnvironment["RABBITMQ_DEFAULT_PASS"])
        #expect(user != "guest" && password != "guest")
        #expect(rabbit["healthcheck"] != nil && (services["postgres"] as? [String: Any])?["healthcheck"] != nil)
        // The admin step runs as the admin, once RabbitMQ is healthy, and makes the users.
        let setup = try #require(services["broker-setup"] as? [String: Any])
        #expect(
            setup["command"] as? [String] == ["mercato", "topology", "apply", "--password-dir", "/tmp/broker-users"])
        let setupEnvironment = try #require(setup["environment"] as? [String: String])
        let admin = try #require(URLComponents(string: setupEnvironment["AMQP_URL"] ?? ""))
        #expect(admin.user == user && admin.password == password)
        #expect(((setup["depends_on"] as? [String: [String: String]])?["rabbitmq"])?["condition"] == "service_healthy")

        for (name, defaults) in Self.defaults {
            let service = try #require(services[name] as? [String: Any], "\(name)")
            #expect(service["command"] as? [String] == [name])
            let environment = try #require(service["environment"] as? [String: String])
            let unknown = Set(environment.keys).subtracting(Self.variables[name]!)
            #expect(unknown.isEmpty, "\(name) is given variables it never reads: \(unknown.sorted())")
            let port = try #require(environment["PORT"].flatMap(Int.init))
            #expect(port == defaults.port)
            let published = (service["ports"] as? [[String: Any]])?.compactMap { $0["target"] as? Int } ?? []
            #expect(published == [port], "\(name) publishes \(published)")
            let healthcheck =
                ((service["healthcheck"] as? [String: Any])?["test"] as? [String])?.joined(separator: " ") ?? ""
            #expect(healthcheck.contains("127.0.0.1:\(port)/health/ready"))
            // Its own role and its own broker user, whose password broker-setup set.
            let database = try #require(URLComponents(string: environment["DATABASE_URL"] ?? ""))
            #expect(database.host == "postgres" && database.path == "/\(defaults.database)")
            #expect(database.user == name.replacingOccurrences(of: "-", with: "_"))
            let amqp = try #require(URLComponents(string: environment["AMQP_URL"] ?? ""))
            #expect(amqp.host == "rabbitmq" && amqp.user == name && amqp.password != password)
            let variable = "AMQP_PASSWORD_" + name.uppercased().replacingOccurrences(of: "-", with: "_")
            #expect(
                setupEnvironment[variable] == amqp.password, "\(name)'s password differs from the one broker-setup sets"
            )
            #expect(environment["AUTH_JWT_SECRET"] != nil, "\(name) has no signing key")
            let dependencies = try #require(service["depends_on"] as? [String: [String: String]])
            #expect(dependencies["broker-setup"]?["condition"] == "service_completed_successfully")
            #expect(dependencies["postgres"]?["condition"] == "service_healthy")
        }
        let order = try #require((services["order-service"] as? [String: Any])?["environment"] as? [String: String])
        #expect(order["CUSTOMER_SERVICE_URL"] == "http://customer-service:8081")
        #expect(order["CATALOG_SERVICE_URL"] == "http://catalog-service:8083")
    }

    /// Kubernetes gives each service's broker user exactly the permissions the code defines
    /// (and `mercato topology apply` sets elsewhere), and each service its own user and role.
    @Test(arguments: ["dev", "prod"])
    func kubernetesBrokerUsersHaveTheLeastPrivilegeOfTheCode(overlay: String) async throws {
        let documents = try await DeployFiles.kubernetes(overlay)
        for expected in BrokerPermission.mercato {
            let permission = try #require(
                documents.first {
                    $0["kind"] as? String == "Permission"
                        && ($0["metadata"] as? [String: Any])?["name"] as? String == expected.user
                },
                "\(expected.user)")
            let granted = try #require((permission["spec"] as? [String: Any])?["permissions"] as? [String: String])
            #expect(
                granted == ["configure": expected.configure, "write": expected.write, "read": expected.read],
                "\(expected.user)")
            #expect(
                documents.contains {
                    $0["kind"] as? String == "User"
                        && ($0["metadata"] as? [String: Any])?["name"] as? String == expected.user
                })
        }
        let job = try #require(documents.first { $0["kind"] as? String == "Job" })
        let container = try #require(
            ((((job["spec"] as? [String: Any])?["template"] as? [String: Any])?["spec"] as? [String: Any])?[
                "containers"] as? [[String: Any]])?.first)
        #expect(container["command"] as? [String] == ["mercato", "topology", "apply"])
    }

    @Test func theObservabilityProfileScrapesEveryService() async throws {
        let compose = try await DeployFiles.compose()
        let services = try #require(compose["services"] as? [String: Any])
        for name in ["prometheus", "grafana", "jaeger"] {
            let service = try #require(services[name] as? [String: Any])
            // Optional: `docker compose up` alone starts neither.
            #expect(service["profiles"] as? [String] == ["observability"], "\(name)")
        }
        let grafana = try #require((services["grafana"] as? [String: Any])?["environment"] as? [String: String])
        #expect(grafana["GF_SECURITY_ADMIN_PASSWORD"] != "admin")
        // Prometheus scrapes each service on the port compose gives it, and RabbitMQ per queue.
        let prometheus = try #require(try await DeployFiles.yaml("deploy/prometheus/prometheus.yml").first)
        let jobs = try #require(prometheus["scrape_configs"] as? [[String: Any]])
        let targets = jobs.flatMap { job in
            ((job["static_configs"] as? [[String: Any]]) ?? []).flatMap { ($0["targets"] as? [String]) ?? [] }
        }
        for (name, defaults) in Self.defaults { #expect(targets.contains("\(name):\(defaults.port)"), "\(name)") }
        #expect(targets.contains("rabbitmq:15692"))
        let plugins = try String(
            contentsOf: DeployFiles.repository.appendingPathComponent("deploy/rabbitmq/enabled_plugins"),
            encoding: .utf8)
        #expect(plugins.contains("rabbitmq_prometheus") && plugins.contains("rabbitmq_management"))
    }

    @Test(arguments: ["dev", "prod"])
    func kubernetesDeploymentsMatchTheServices(overlay: String) async throws {
        let documents = try await DeployFiles.kubernetes(overlay)
        func named(_ kind: String, _ name: String) -> [String: Any]? {
            documents.first {
                $0["kind"] as? String == kind && ($0["metadata"] as? [String: Any])?["name"] as? String == name
            }
        }
        let configMap = try #require(documents.first { $0["kind"] as? String == "ConfigMap" })
        let configuration = try #require(configMap["data"] as? [String: String])
        let readByAnyone = Self.variables.values.reduce(Set<String>()) { $0.union($1) }
        #expect(Set(configuration.keys).isSubset(of: readByAnyone), "\(configuration.keys)")

        for (name, defaults) in Self.defaults {
            let deployment = try #require(named("Deployment", name), "\(name)")
            let pod = try #require(
                ((deployment["spec"] as? [String: Any])?["template"] as? [String: Any])?["spec"] as? [String: Any])
            #expect((pod["securityContext"] as? [String: Any])?["runAsNonRoot"] as? Bool == true)
            let container = try #require((pod["containers"] as? [[String: Any]])?.first)
            #expect(container["command"] as? [String] == [name])
            let environment = (container["env"] as? [[String: Any]]) ?? []
            let names = Set(environment.compactMap { $0["name"] as? String })
            let values = environment.compactMap { $0["value"] as? String }.joined(separator: " ")
            // Every variable is read by the service or interpolated into one that is.
            for variable in names where !Self.variables[name]!.contains(variable) {
                #expect(values.contains("$(\(variable))"), "\(name): \(variable) is neither read nor used")
            }
            #expect(environment.first { $0["name"] as? String == "PORT" }?["value"] as? String == "\(defaults.port)")
            #expect(values.contains("mercato-postgres-rw:5432/\(defaults.database)"))
            #expect((container["ports"] as? [[String: Any]])?.first?["containerPort"] as? Int == defaults.port)
            let readiness = (container["readinessProbe"] as? [String: Any])?["httpGet"] as? [String: Any]
            let liveness = (container["livenessProbe"] as? [String: Any])?["httpGet"] as? [String: Any]
            #expect(readiness?["path"] as? String == "/health/ready")
            #expect(liveness?["path"] as? String == "/health/live")
            // Each probe says how long it waits, and readiness answers well within it.
            for probe in ["readinessProbe", "livenessProbe"] {
                let timeout = (container[probe] as? [String: Any])?["timeoutSeconds"] as? Int
                #expect(timeout == 1, "\(name): \(probe) timeoutSeconds is \(timeout.map(String.init) ?? "unset")")
                #expect(HealthRoutes.Configuration.answerBudget * 2 <= .seconds(timeout ?? 0), "\(name): \(probe)")
            }
            let resources = try #require(container["resources"] as? [String: Any])
            #expect(resources["requests"] != nil && resources["limits"] != nil)
            let service = try #require(named("Service", name))
            #expect(
                ((service["spec"] as? [String: Any])?["ports"] as? [[String: Any]])?.first?["port"] as? Int
                    == defaults.port)
            #expect(named("HorizontalPodAutoscaler", name) != nil)
            #expect(named("PodDisruptionBudget", name) != nil)
        }

        // The operators' resources: checked here for what Mercato relies on, because their CRD
        // schemas are not available offline for kubernetes-validate.
        let rabbit = try #require(named("RabbitmqCluster", "mercato-rabbitmq"))
        let postgres = try #require(named("Cluster", "mercato-postgres"))
        #expect(rabbit["apiVersion"] as? String == "rabbitmq.com/v1beta1")
        #expect(postgres["apiVersion"] as? String == "postgresql.cnpg.io/v1")
        let sql =
            (((postgres["spec"] as? [String: Any])?["bootstrap"] as? [String: Any])?["initdb"] as? [String: Any])?[
                "postInitApplicationSQL"]
            as? [String] ?? []
        for database in MercatoService.all.map(\.database) {
            #expect(sql.contains { $0.contains("CREATE DATABASE \(database)") })
        }
        let replicas = (rabbit["spec"] as? [String: Any])?["replicas"] as? Int
        let instances = (postgres["spec"] as? [String: Any])?["instances"] as? Int
        if overlay == "prod" {
            // The shape the cluster fault suite runs: three nodes, quorum queues, two
            // replicas of every service.
            #expect(replicas == 3 && instances == 3)
            #expect(configuration["QUEUE_TYPE"] == "quorum")
            for name in Self.defaults.keys {
                let spec = named("Deployment", name)?["spec"] as? [String: Any]
                #expect(spec?["replicas"] as? Int == 2, "\(name)")
            }
        } else {
            #expect(replicas == 1)
            #expect(configuration["QUEUE_TYPE"] == "classic")
        }
    }

    /// The per-service manifests are the template's, one per service of the list: a fourth
    /// service gets its manifest from `scripts/generate-k8s`, and an edit of one manifest
    /// alone (which the next generation would undo) fails here.
    @Test func theServiceManifestsAreWhatTheGeneratorWrites() async throws {
        let generated = FileManager.default.temporaryDirectory.appendingPathComponent("k8s-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: generated) }
        _ = try await DeployFiles.run(["scripts/generate-k8s", generated.path])
        for service in MercatoService.all {
            let expected = try String(
                contentsOf: generated.appendingPathComponent("\(service.name).yaml"), encoding: .utf8)
            let checkedIn = try String(
                contentsOf: DeployFiles.repository.appendingPathComponent("deploy/k8s/base/\(service.name).yaml"),
                encoding: .utf8)
            #expect(checkedIn == expected, "deploy/k8s/base/\(service.name).yaml: run scripts/generate-k8s")
        }
    }

    @Test func theImageBuildsAsCIDoes() async throws {
        let dockerfile = try String(
            contentsOf: DeployFiles.repository.appendingPathComponent("deploy/Dockerfile"), encoding: .utf8)
        #expect(dockerfile.contains("RUN scripts/install-deps --build-only"))
        #expect(dockerfile.contains("RUN scripts/build-release"))
        #expect(dockerfile.contains("USER 10001:10001"))
        // It builds and copies what the one list names.
        #expect(dockerfile.contains("COPY deploy/services.tsv deploy/"))
        #expect(dockerfile.contains("deploy/services.tsv) mercato; do cp"))
        let test = try String(
            contentsOf: DeployFiles.repository.appendingPathComponent("scripts/test"), encoding: .utf8)
        #expect(test.contains("\"$here/build-release\""))
    }
}

/// The deployment files as data.
enum DeployFiles {
    static let rendered = ProcessInfo.processInfo.environment["MERCATO_DEPLOY_RENDERED"]
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// `docker-compose config` (variables resolved), as JSON objects.
    static func compose() async throws -> [String: Any] {
        let yaml = try await run([
            "docker-compose", "-f", repository.appendingPathComponent("docker-compose.yml").path, "config",
        ])
        return try (await yamlToJSON(yaml) as? [[String: Any]])?.first ?? [:]
    }

    /// A YAML file of the repository, one object per document.
    static func yaml(_ path: String) async throws -> [[String: Any]] {
        let yaml = try String(contentsOf: repository.appendingPathComponent(path), encoding: .utf8)
        return (try await yamlToJSON(yaml) as? [[String: Any]]) ?? []
    }

    /// The rendered manifests of an overlay, one object per document.
    static func kubernetes(_ overlay: String) async throws -> [[String: Any]] {
        guard let rendered else {
            throw DeployCheckFailure(
                "MERCATO_DEPLOY_RENDERED is not set: run scripts/test, which renders the manifests")
        }
        let yaml = try String(contentsOfFile: "\(rendered)/k8s-\(overlay).yaml", encoding: .utf8)
        return (try await yamlToJSON(yaml) as? [[String: Any]]) ?? []
    }

    private static func yamlToJSON(_ yaml: String) async throws -> Any {
        let script =
            "import json, sys, yaml; print(json.dumps([d for d in yaml.safe_load_all(sys.stdin) if d is not None]))"
        return try JSONSerialization.jsonObject(with: Data(try await run(["python3", "-c", script], input: yaml).utf8))
    }

    /// Runs a validator to its end (at most a minute) and returns its output.
    static func run(_ arguments: [String], input: String? = nil) async throws -> String {
        let result = try await runProcess(arguments, directory: repository, input: input, timeout: .seconds(60))
        guard result.status == 0 else {
            throw DeployCheckFailure("\(arguments.joined(separator: " ")) exited with \(result.status)")
        }
        return result.output
    }
}

struct DeployCheckFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
