import ArgumentParser
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// `mercato`: the operator's command line.
@main
struct Mercato: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mercato",
        abstract: "Operate a Mercato installation.",
        subcommands: [
            TopologyCommand.self, DeadLetterCommand.self, AuditCommand.self, LoadCommand.self, BenchCommand.self,
            TokenCommand.self,
        ])

    static func main() async {
        // A write to a socket whose peer has gone raises SIGPIPE, whose default action ends
        // the process: a lost broker must be an error, not a crash.
        signal(SIGPIPE, SIG_IGN)
        var command: any ParsableCommand
        do {
            command = try parseAsRoot()
        } catch {
            // Usage errors and help: ArgumentParser's own words.
            exit(withError: error)
        }
        do {
            if var asynchronous = command as? any AsyncParsableCommand {
                try await asynchronous.run()
            } else {
                try command.run()
            }
        } catch {
            guard let line = FailureMessage.line(for: error) else { exit(withError: error) }
            FileHandle.standardError.write(Data("mercato: \(line)\n".utf8))
            exit(withError: ExitCode.failure)
        }
    }
}
