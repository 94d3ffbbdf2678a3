import Foundation
import MercatoTesting
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

#if canImport(Glibc)
    import Glibc
#endif

/// The README's `scripts/run`, as a person uses it: its output piped into `tee`, stopped with
/// Ctrl-C (SIGINT to the whole foreground process group, `tee` included).
@Suite(.needsSystem, .systemSlot, .timeLimit(.minutes(10)))
struct RunScriptSystemTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    @Test func ctrlCWithTheOutputInTeeStopsTheServersToo() async throws {
        let state = FileManager.default.temporaryDirectory.appendingPathComponent(
            "mercato-run-\(UUID().uuidString.prefix(8))")
        let log = state.appendingPathExtension("log")
        defer {
            // Whatever happened, leave no server behind.
            let down = Process()
            down.executableURL = Self.repository.appendingPathComponent("scripts/infra")
            down.arguments = ["down"]
            down.environment = ProcessInfo.processInfo.environment.merging(["MERCATO_STATE_DIR": state.path]) { $1 }
            down.standardOutput = FileHandle.nullDevice
            down.standardError = FileHandle.nullDevice
            try? down.run()
            down.waitUntilExit()
            try? FileManager.default.removeItem(at: log)
            try? FileManager.default.removeItem(atPath: state.path + "-auth")
        }
        // Started as a terminal starts a job: a process group of its own, and no signal
        // blocked or ignored. (A process started from the test runner inherits the runner's
        // signal mask, with SIGINT blocked, so the pipeline would never see the Ctrl-C.)
        let pipeline = Process()
        pipeline.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        pipeline.arguments = [
            "-c",
            """
            import os, signal, sys
            signal.pthread_sigmask(signal.SIG_SETMASK, [])
            for number in (signal.SIGINT, signal.SIGTERM, signal.SIGPIPE, signal.SIGQUIT):
                signal.signal(number, signal.SIG_DFL)
            if os.getpgrp() != os.getpid():
                os.setpgid(0, 0)
            os.execv("/bin/bash", ["bash", "-c", 'scripts/run | tee "$0"', sys.argv[1]])
            """,
            log.path,
        ]
        pipeline.currentDirectoryURL = Self.repository
        var environment = ProcessInfo.processInfo.environment
        environment["MERCATO_RUN_STATE_DIR"] = state.path
        environment["MERCATO_RUN_FREE_PORTS"] = "1"
        environment["MERCATO_AUTH_DIR"] = state.path + "-auth"
        environment["MERCATO_BIN_DIR"] = MercatoSystem.binDirectory.path
        pipeline.environment = environment
        pipeline.standardOutput = FileHandle.nullDevice
        pipeline.standardError = FileHandle.nullDevice
        let exited = OneShot()
        pipeline.terminationHandler = { _ in exited.fire() }
        try pipeline.run()

        try await waitUntil(
            "scripts/run to say the system is running", timeout: .seconds(180), interval: .milliseconds(200)
        ) {
            exited.hasFired
                ? true : ((try? String(contentsOf: log, encoding: .utf8))?.contains("Mercato is running") ?? false)
        }
        try #require(
            !exited.hasFired,
            "scripts/run ended before the system was up:\n\((try? String(contentsOf: log, encoding: .utf8)) ?? "")")
        let servers = try Self.serverProcesses(state)
        #expect(servers.count == 2 && servers.allSatisfy(Self.isAlive))
        try await Self.theBannersTokensWork(log: log)
        // The tokens it keeps for later are as private as the key that signs them.
        for name in ["admin-token", "customer-token"] {
            let path = state.appendingPathComponent(name).path
            let mode = try #require(
                try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int, "\(name)")
            #expect(mode & 0o777 == 0o600, "\(name) is \(String(mode & 0o777, radix: 8)), not 600")
        }

        kill(-pipeline.processIdentifier, SIGINT)
        try await exited.wait("scripts/run to exit after Ctrl-C", timeout: .seconds(120))
        try await waitUntil("RabbitMQ and PostgreSQL to stop", timeout: .seconds(30)) {
            !servers.contains(where: Self.isAlive)
        }
        #expect(!FileManager.default.fileExists(atPath: state.path), "the data directory was left behind")
    }

    /// The tokens the banner prints open what they should and nothing more.
    static func theBannersTokensWork(log: URL) async throws {
        let banner = try String(contentsOf: log, encoding: .utf8)
        func value(after prefix: String) -> String? {
            banner.split(separator: "\n").first { $0.trimmingCharacters(in: .whitespaces).hasPrefix(prefix) }
                .map {
                    $0.trimmingCharacters(in: .whitespaces).dropFirst(prefix.count).split(separator: " ").first.map(
                        String.init) ?? ""
                }
        }
        let admin = try #require(value(after: "export TOKEN="))
        let customer = try #require(value(after: "export CUSTOMER_TOKEN="))
        let orders = try #require(value(after: "order-service"))
        let customers = try #require(value(after: "customer-service"))
        func status(_ url: String, _ token: String?) async throws -> (Int, Any?) {
            var request = URLRequest(url: URL(string: url)!)
            if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
            let (data, response) = try await MercatoSystem.session.data(for: request)
            return ((response as! HTTPURLResponse).statusCode, try? JSONSerialization.jsonObject(with: data))
        }
        #expect(try await status(orders + "/orders", nil).0 == 401)
        #expect(try await status(orders + "/orders", admin).0 == 200)
        let (adminStatus, everyone) = try await status(customers + "/customers", admin)
        let (customerStatus, own) = try await status(customers + "/customers", customer)
        #expect(adminStatus == 200 && customerStatus == 200)
        #expect(((everyone as? [String: Any])?["data"] as? [Any])?.count ?? 0 > 1)
        #expect(((own as? [String: Any])?["data"] as? [Any])?.count == 1)
    }

    /// The RabbitMQ wrapper and the PostgreSQL postmaster that `scripts/infra` started.
    static func serverProcesses(_ state: URL) throws -> [pid_t] {
        let rabbit = try String(contentsOf: state.appendingPathComponent("rabbitmq/wrapper.pid"), encoding: .utf8)
        let postgres = try String(
            contentsOf: state.appendingPathComponent("postgres/data/postmaster.pid"), encoding: .utf8)
        return [rabbit, postgres].compactMap {
            pid_t($0.split(separator: "\n").first.map(String.init)?.trimmingCharacters(in: .whitespaces) ?? "")
        }
    }

    static func isAlive(_ pid: pid_t) -> Bool {
        kill(pid, 0) == 0 || errno == EPERM
    }
}
