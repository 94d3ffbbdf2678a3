public import Foundation
import Locking

/// What a program printed and how it ended.
public struct ProcessResult: Sendable {
    /// The exit status.
    public var status: Int32
    /// Its standard output (and standard error, when merged).
    public var output: String
}

/// Runs a program to its end and returns what it printed, without holding a thread of the
/// cooperative pool; one still running after `timeout` is terminated and the call throws.
/// `arguments[0]` is looked up in `PATH` unless `executable` is given. With `output`, the
/// program writes there (standard output and error) instead, and the result's output is
/// empty: for long runs whose log a test reads afterwards.
public func runProcess(
    _ arguments: [String], executable: URL? = nil, environment: [String: String]? = nil, directory: URL? = nil,
    input: String? = nil,
    mergingStandardError: Bool = false, output destination: FileHandle? = nil, timeout: Duration = .seconds(120)
) async throws -> ProcessResult {
    let process = Process()
    if let executable {
        process.executableURL = executable
        process.arguments = arguments
    } else {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
    }
    if let environment { process.environment = environment }
    if let directory { process.currentDirectoryURL = directory }
    let output = Pipe()
    if let destination {
        process.standardOutput = destination
        process.standardError = destination
    } else {
        process.standardOutput = output
        if mergingStandardError { process.standardError = output }
    }
    let inputPipe = Pipe()
    process.standardInput = inputPipe
    let collected = Locked(Data())
    let drained = OneShot()
    let exited = OneShot()
    process.terminationHandler = { _ in exited.fire() }
    try process.run()
    if destination == nil {
        // Read on a thread of its own: the pipe must be emptied while the program runs, or a
        // chatty one blocks on a full pipe and never exits.
        let reader = Thread {
            let data = output.fileHandleForReading.readDataToEndOfFile()
            collected.withLock { $0 = data }
            drained.fire()
        }
        reader.start()
    } else {
        try? output.fileHandleForWriting.close()
        drained.fire()
    }
    if let input { inputPipe.fileHandleForWriting.write(Data(input.utf8)) }
    try? inputPipe.fileHandleForWriting.close()
    do {
        try await exited.wait("\(arguments.first ?? "a program") to exit", timeout: timeout)
        try await drained.wait("\(arguments.first ?? "a program")'s output to end", timeout: .seconds(30))
    } catch {
        process.terminate()
        throw error
    }
    return ProcessResult(
        status: process.terminationStatus, output: String(decoding: collected.withLock { $0 }, as: UTF8.self))
}
