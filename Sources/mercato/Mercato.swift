import ArgumentParser

/// `mercato`: the operator's command line.
@main
struct Mercato: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mercato",
        abstract: "Operate a Mercato installation.",
        subcommands: [TopologyCommand.self, DeadLetterCommand.self, LoadCommand.self, BenchCommand.self])
}
