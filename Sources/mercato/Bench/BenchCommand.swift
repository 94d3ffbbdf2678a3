import ArgumentParser

/// `mercato bench`: micro-benchmarks that print figures (never assertions).
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks that print figures.",
        subcommands: [BrokerBenchCommand.self])
}
