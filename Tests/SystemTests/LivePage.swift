import Foundation

/// order-service's live page in a real headless Chromium, driven by Selenium
/// (`Tests/browser/live_page.py`): the test asks what the page shows, the script answers.
final class LivePage: Sendable {
    private let process: Process
    private let commands: FileHandle
    private let replies: URL

    /// Opens `url` in a window of `width`×`height`.
    init(url: String, width: Int = 1400, height: Int = 1000) throws {
        replies = FileManager.default.temporaryDirectory.appendingPathComponent("live-page-\(UUID().uuidString).jsonl")
        _ = FileManager.default.createFile(atPath: replies.path, contents: nil)
        let input = Pipe()
        process = Process()
        // Debian's interpreter: python3-selenium is installed for it, not for a pyenv one.
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = ["Tests/browser/live_page.py", url, replies.path, String(width), String(height)]
        process.standardInput = input
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        commands = input.fileHandleForWriting
    }

    /// What the page shows now (see `live_page.py`).
    func state() async throws -> [String: Any] {
        try await send("state")
    }

    /// Saves a PNG of the page at `path`.
    func screenshot(_ path: String) async throws {
        _ = try await send("screenshot \(path)")
    }

    /// Waits until `condition` holds for what the page shows; fails after `timeout` with the
    /// last state.
    @discardableResult
    func waitFor(_ what: String, timeout: Duration = .seconds(30), _ condition: ([String: Any]) -> Bool) async throws
        -> [String: Any]
    {
        let deadline = ContinuousClock.now + timeout
        var last: [String: Any] = [:]
        while ContinuousClock.now < deadline {
            last = try await state()
            if condition(last) { return last }
            try await Task.sleep(for: .milliseconds(250))
        }
        throw SystemTestFailure("the page never showed \(what); last: \(last)")
    }

    private func send(_ command: String) async throws -> [String: Any] {
        let before = lines.count
        try commands.write(contentsOf: Data((command + "\n").utf8))
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            let now = lines
            if now.count > before {
                let reply = (try? JSONSerialization.jsonObject(with: Data(now[before].utf8))) as? [String: Any] ?? [:]
                if let failure = reply["failure"] as? String {
                    throw SystemTestFailure("the browser failed: \(failure)")
                }
                return reply
            }
            guard process.isRunning else {
                throw SystemTestFailure("the browser driver exited (status \(process.terminationStatus))")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw SystemTestFailure("the browser did not answer \(command) within a minute")
    }

    private var lines: [String] {
        ((try? String(contentsOf: replies, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    /// Closes the browser.
    func close() {
        try? commands.write(contentsOf: Data("quit\n".utf8))
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning, Date() < deadline { usleep(50_000) }
        if process.isRunning {
            // SIGKILL: a child of the test process inherits a signal mask that blocks SIGTERM.
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: replies)
    }
}
